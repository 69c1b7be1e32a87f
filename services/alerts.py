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
    return uow.outbox.add(f"alert:spike:{now:%Y%m%dT%H%M}", alert, None, now)  # two leaders at once: one


def check_stall(uow: UnitOfWork, now: datetime, late: list[str]) -> str | None:
    """One alert when polling stalls (``late`` names the sources not polled for twice their
    interval), one notice when every source is on time again; None while nothing changed."""
    since = uow.workers.stalled_since()
    if late and since is None:
        names = ", ".join(late[:10]) + (f" (+{len(late) - 10})" if len(late) > 10 else "")
        uow.statuses.set("polling", "stalled", now, names, None)
        uow.outbox.add(f"alert:stall:{now:%Y%m%dT%H%M}", Alert("stalled", count=len(late), cause=names), None, now)
        return "stalled"
    if not late and since is not None:
        uow.statuses.set("polling", "ok", now, None, None)
        alert = Alert("recovered", due=since.isoformat())
        uow.outbox.add(f"alert:stall:{since:%Y%m%dT%H%M%S}:recovered", alert, None, now)
        return "recovered"
    return None


def raise_worker_gone(uow: UnitOfWork, worker: str, seen_at: datetime, now: datetime) -> bool:
    """A worker stopped beating without leaving (killed, frozen, its machine gone): one alert.
    The other workers have taken its sources and, if it led, the bot."""
    alert = Alert("worker_gone", due=seen_at.isoformat(), cause=worker)
    return uow.outbox.add(f"alert:worker:{worker}", alert, None, now)
