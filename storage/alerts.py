"""Manager alerts that depend on time: missed first-response deadlines and complaint spikes.

Alerts are outbox rows keyed ``alert:<complaint>:<reason>``, so each is raised once
however often the check runs; legal threats and manager requests are queued at ingest.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import lifecycle
from core.lifecycle import Status
from storage.cards import bump_card
from storage.outbox import add_outbox
from storage.tables import Complaint, Event, Outbox

UNANSWERED = tuple(s.value for s in Status if s in lifecycle.UNANSWERED)  # the first-response clock runs
BATCH = 500


def raise_deadline_alerts(session: Session, now: datetime) -> int:
    """Queue an alert for each unanswered complaint past its first-response deadline."""
    rows = session.execute(
        select(Complaint.id, Complaint.first_response_due)
        .where(
            Complaint.status.in_(UNANSWERED),
            Complaint.first_response_due < now,
            Complaint.first_response_at.is_(None),
        )
        .order_by(Complaint.first_response_due)
        .limit(BATCH)
    ).all()
    raised = 0
    for cid, due in rows:
        payload = {"reason": "deadline_missed", "due": due.isoformat()}
        if add_outbox(
            session, key=f"alert:{cid}:deadline_missed", kind="alert", complaint_id=cid, payload=payload, now=now
        ):
            session.add(Event(complaint_id=cid, at=now, kind="deadline_missed", actor="reclaim", data=payload))
            bump_card(session, cid)  # the card now says "overdue"
            raised += 1
    return raised


def raise_spike_alert(session: Session, now: datetime, *, count: int, window: timedelta) -> bool:
    """Queue a spike alert when more than ``count`` complaints opened within ``window``,
    at most one per window."""
    since = now - window
    opened = session.scalar(select(func.count()).select_from(Complaint).where(Complaint.created_at >= since)) or 0
    if opened <= count:
        return False
    recent = session.scalar(
        select(func.count())
        .select_from(Outbox)
        .where(Outbox.kind == "alert", Outbox.key.like("alert:spike:%"), Outbox.created_at >= since)
    )
    if recent:
        return False
    payload = {"reason": "spike", "count": int(opened), "window_seconds": int(window.total_seconds())}
    return add_outbox(
        session,
        key=f"alert:spike:{now.strftime('%Y%m%dT%H%M%S')}",
        kind="alert",
        complaint_id=None,
        payload=payload,
        now=now,
    )
