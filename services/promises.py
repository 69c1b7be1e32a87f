"""Promise timers (run by the scheduler): owners are reminded of promises coming due, and a
promise that passed unmet brings the customer an apology with the owner's reason (or a
default) and a new time, and the managers an alert. Each promise is reminded and missed at
most once, also with several workers (rows another worker holds are left to it)."""

from __future__ import annotations

from datetime import datetime

from core.model import Step
from core.outbox import Remind
from responders.conversation import PromiseMissed
from services.machine import Playbook, run
from storage.uow import UnitOfWork

FINISHED_STEPS = (Step.CLOSED.value, Step.SATISFACTION.value)


def check_promises(uow: UnitOfWork, book: Playbook, now: datetime) -> int:
    """Handle what is due now, in the caller's unit of work; how many were reminded or missed."""
    handled = 0
    extension = book.extension or book.default_promise
    for seen in uow.promises.due(now):
        c = uow.complaints.get(seen.complaint_id, lock=True)  # the complaint first, then its promise
        p = uow.promises.get(seen.id, lock=True)
        if p is None or p.kept_at is not None or p.missed_at is not None:
            continue  # kept meanwhile, or another worker had it
        p.missed_at = now
        row = uow.conversations.get(p.complaint_id)
        if c is None or row is None or row.step in FINISHED_STEPS:
            continue
        uow.events.add(c.id, "promise_overdue", "reclaim", {"promise": p.id}, now)
        run(uow, book, c, row, PromiseMissed(p.slip_reason, now + extension), "reclaim", now)
        handled += 1
    for p in uow.promises.to_remind(now + book.remind_before):
        p.reminded_at = now
        uow.outbox.add(f"remind:{p.id}", Remind(p.due), p.complaint_id, now)
        handled += 1
    return handled
