"""A case opened by hand from a mention in the journal (services/mentions.py): a missed
complaint made one, or a question or praise the team answers in public. The same rows a
detected complaint gets: the complaint, its draft, its first events, its card and alerts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.ingest import CasePlan
from core.model import DraftStatus, Kind
from core.outbox import Alert
from storage.journal import ALERT_FLAGS, outbox_row, queue_rows
from storage.tables import CardQueue, Complaint, Draft, Event


def of_mention(session: Session, mention_id: int) -> Complaint | None:
    return session.scalar(select(Complaint).where(Complaint.mention_id == mention_id))


def open_case(session: Session, plan: CasePlan, now: datetime) -> int:
    """Insert the case; its id."""
    t, c = plan.triage, plan.complaint
    row = Complaint(
        mention_id=plan.mention_id, kind=plan.kind.value, status=c.status.value, language=t.language,
        severity=t.severity.value, category=t.category, flags=[f.value for f in t.flags], token=c.token,
        created_at=plan.detected_at, updated_at=now, first_response_due=c.first_response_due,
        publisher=plan.publisher, source=plan.source,
    )  # fmt: skip
    session.add(row)
    session.flush()
    cid = row.id
    opened = {"language": t.language, "severity": t.severity.value, "category": t.category,
              "flags": [f.value for f in t.flags], "kind": plan.kind.value}  # fmt: skip
    found_after = max((now - plan.detected_at).total_seconds(), 0.0)
    session.add_all([
        Draft(complaint_id=cid, text=c.draft_text, status=DraftStatus.PROPOSED.value, author="reclaim",
              created_at=now),
        Event(complaint_id=cid, at=plan.detected_at, kind="mention_detected", actor="reclaim", data={}),
        Event(complaint_id=cid, at=now, kind="complaint_opened", actor=plan.actor, data=opened),
        Event(complaint_id=cid, at=now, kind=_OPENED[plan.kind], actor=plan.actor,
              data={"found_after_seconds": round(found_after)}),
        Event(complaint_id=cid, at=now, kind="draft_proposed", actor="reclaim", data={"author": "reclaim"}),
        CardQueue(complaint_id=cid, version=1, drawn=0),
    ])  # fmt: skip
    if plan.kind is Kind.COMPLAINT:
        alerts = [Alert(f.value) for f in t.flags if f.value in ALERT_FLAGS]
        queue_rows(session, [outbox_row(f"alert:{cid}:{a.reason}", a, cid, now) for a in alerts])
    return cid


# the event that says how a case came to be (the review counts "promoted": complaints triage missed)
_OPENED = {Kind.COMPLAINT: "promoted", Kind.QUESTION: "answer_opened", Kind.PRAISE: "thanks_opened"}
