"""Manager alerts that depend on time (run by the scheduler): missed first-response deadlines
and complaint spikes. Alerts are outbox rows keyed ``alert:<complaint>:<reason>``, so each is
raised once however often the check runs; legal threats and manager requests are queued at
ingest."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.outbox import Alert, to_json
from storage.uow import UnitOfWork

BATCH = 500


def raise_deadline_alerts(uow: UnitOfWork, now: datetime) -> int:
    """Queue an alert for each unanswered complaint past its first-response deadline."""
    raised = 0
    for cid, due in uow.complaints.overdue(now, BATCH):
        alert = Alert("deadline_missed", due=due.isoformat())
        if uow.outbox.add(f"alert:{cid}:deadline_missed", alert, cid, now):
            uow.events.add(cid, "deadline_missed", "reclaim", to_json(alert), now)
            uow.cards.bump(cid)  # the card now says "overdue"
            raised += 1
    return raised


def raise_spike_alert(uow: UnitOfWork, now: datetime, *, count: int, window: timedelta) -> bool:
    """Queue a spike alert when more than ``count`` complaints opened within ``window``, at
    most one per window."""
    since = now - window
    opened = uow.complaints.opened_since(since)
    if opened <= count or uow.outbox.queued_since("alert:spike:", since):
        return False
    alert = Alert("spike", count=opened, window_seconds=int(window.total_seconds()))
    return uow.outbox.add(f"alert:spike:{now.strftime('%Y%m%dT%H%M%S')}", alert, None, now)
