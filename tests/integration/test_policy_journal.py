"""The policy over the real journal (SQLite and PostgreSQL): the query that finds replies to
publish leaves out what the rules never publish, so old legal threats and manager requests
that wait for a person can never crowd out a complaint that is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.ingest import ComplaintPlan, IngestPlan, MentionPlan
from core.lifecycle import Status
from core.model import Flag, Kind, RawMention, Severity, Triage
from core.respond import Policy, WorkingHours
from services.policy import PolicyDesk

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _open(app: Any, n: int, flags: tuple[Flag, ...], severity: Severity, at: datetime) -> list[int]:
    plan = IngestPlan("reddit", at, "reddit")
    for i in range(n):
        raw = RawMention(external_id=f"{flags}-{severity}-{i}", text="Nordlys lost my parcel", author="Emma")
        due = ComplaintPlan(f"tok-{flags}-{severity}-{i}", Status.DRAFT_READY, at + timedelta(hours=1), "Thank you …")
        plan.mentions.append(MentionPlan(raw, Triage("en", Kind.COMPLAINT, flags, severity, "delivery"), due))
    with app.uow() as uow:
        return list(uow.complaints.record(plan).complaint_ids)


def test_waiting_legal_threats_never_crowd_out_a_due_reply(db_url: str, make_app: Any) -> None:
    app = make_app(db_url, [])
    _open(app, 12, (Flag.LEGAL_THREAT,), Severity.CRITICAL, NOW - timedelta(days=2))
    _open(app, 12, (Flag.MANAGER_REQUEST,), Severity.HIGH, NOW - timedelta(days=2))
    _open(app, 12, (Flag.PROFANITY,), Severity.HIGH, NOW - timedelta(days=2))
    (due,) = _open(app, 1, (), Severity.NORMAL, NOW - timedelta(hours=1))
    policy = Policy(WorkingHours(UTC), timedelta(minutes=15), timedelta(minutes=2), frozenset({"reddit"}),
                    frozenset({"low", "normal", "high"}), frozenset({"en"}))  # fmt: skip
    desk = PolicyDesk(app.uow, policy, lambda: NOW)
    assert desk.run(limit=10) == [due]
    with app.uow() as uow:
        c = uow.complaints.get(due)
        assert c is not None and c.status == Status.APPROVED.value
        assert uow.outbox.by_key(f"publish:{due}") is not None
    assert desk.run(limit=10) == []
