"""The policy over the real journal (SQLite and PostgreSQL): the query that finds replies to
publish leaves out what the rules never publish, so old legal threats and manager requests
that wait for a person can never crowd out a complaint that is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cards import render
from bot.texts import load_texts
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


def _published(app: Any) -> tuple[int, Any, Any]:
    from core.inbox import Action, Staff
    from services.delivery import Delivery
    from services.staff import StaffInbox

    (cid,) = _open(app, 1, (), Severity.NORMAL, NOW)
    staff, delivery = StaffInbox(app.uow, clock=lambda: NOW), Delivery(app.uow, clock=lambda: NOW)
    staff.act(cid, Action.APPROVE, Staff(7, "Anna"), None, 1)
    (item,) = delivery.claim(10)
    delivery.sent(item, {"id": "t1_ours", "url": "https://www.reddit.com/r/x/comments/1/_/ours/"})
    return cid, staff, delivery


def _edit(staff: Any, cid: int, message_id: int, text: str) -> str:
    from core.inbox import Staff

    staff.add_prompt(-100, message_id, cid, 8, "reply_edit_text")
    prompt = staff.find_prompt(-100, message_id)
    return str(staff.save_edit(prompt, Staff(8, "Bob"), text, None).notice)


def test_edits_and_withdrawals_of_our_reply_on_the_journal(db_url: str, make_app: Any) -> None:
    from core.inbox import Action, Staff

    app = make_app(db_url, [])
    cid, staff, delivery = _published(app)
    assert _edit(staff, cid, 70, "First new text") == "reply_edit_queued"
    assert _edit(staff, cid, 71, "Second new text") == "reply_edit_queued"
    (item,) = delivery.claim(10)  # the first edit was still waiting: dropped, it cannot land last
    assert item.payload.text == "Second new text"
    delivery.refused(item, "Reddit: the post or comment was deleted (DELETED_COMMENT)")
    card = staff.card(cid)
    assert card.status.value == "published" and card.draft == "Thank you …"
    assert any("DELETED_COMMENT" in line for line in card.failed_sends)  # the card says why
    anna = Staff(7, "Anna")
    staff.act(cid, Action.WITHDRAW_CONFIRM, anna, None, 2)
    (gone,) = delivery.claim(10)
    delivery.refused(gone, "Reddit refused the reply: try later")
    assert staff.act(cid, Action.WITHDRAW_CONFIRM, anna, None, 3).notice == "withdrawing"
    (again,) = delivery.claim(10)  # pressed again: the same row goes again
    assert again.id == gone.id
    delivery.sent(again, {"deleted": True})
    card = staff.card(cid)
    assert card.status.value == "draft_ready" and not card.amendable
    text = render(card, load_texts("en"), NOW, ZoneInfo("UTC"))
    assert "Approved by" not in text and "Published by policy" not in text  # a draft again


def test_without_the_bot_nothing_is_published_by_policy(
    db_url: str, make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from reclaim.scheduler import Runner

    app = make_app(db_url, [], respond={"auto_publish": {"after": "15m"}})
    runner = Runner(app)  # no telegram.token: no dispatcher would send the replies
    runner.schedule()
    assert app.policy is not None and runner.scheduler.get_job("policy") is None
    assert "respond.auto_publish needs the bot" in caplog.text
