"""Root causes, recorded by a complaint's owner once it is resolved: the complaint joins the open
corrective action for its cause, and a cause back after its action was marked done alerts the
managers, once per action and complaint ("the fix for late delivery did not hold")."""

from __future__ import annotations

from datetime import datetime

from core.outbox import Alert
from storage.tables import Complaint
from storage.uow import UnitOfWork


def record_cause(
    uow: UnitOfWork, c: Complaint, cause: str, justified: bool | None, actor: str, now: datetime
) -> list[int]:
    """Set a complaint's root cause; returns the ids of the done actions that did not hold."""
    c.root_cause, c.updated_at = cause[:64], now
    if justified is not None:
        c.justified = justified
    uow.events.add(c.id, "cause_recorded", actor, {"cause": cause, "justified": justified}, now)
    base = cause.split(":", 1)[0]
    failed = []
    for a in uow.actions.for_cause(base):
        if a.status == "open":
            uow.actions.join(a.id, c.id)
        elif a.done_at is not None and c.created_at > a.done_at:
            alert = Alert("fix_failed", cause=base, action=a.title, action_id=a.id)
            uow.outbox.add(f"alert:{c.id}:fix_failed:{a.id}", alert, c.id, now)
            failed.append(a.id)
    return failed
