"""Corrective actions: what will change so a cause of complaints stops, who owns it, by when.

An action covers many complaints; while it is open, complaints resolved with its cause join it
(services/causes.py), and a cause back after the action was marked done alerts the managers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.tables import Action
from storage.uow import UnitOfWork

OTHER = "other"
LINK_WINDOW = timedelta(days=90)  # "link the cause" covers complaints of the last 90 days


class ActionError(ValueError):
    """A request about actions that cannot be done, in words for the person who asked."""


class Actions:
    def __init__(self, uow: Callable[[], UnitOfWork], causes: Sequence[str]) -> None:
        self.uow, self.causes = uow, list(causes)

    def _check_cause(self, cause: str) -> None:
        if cause not in self.causes and cause != OTHER:
            raise ActionError(f"unknown cause {cause!r}; review.causes has: {', '.join(self.causes)}")

    def add(
        self,
        title: str,
        cause: str,
        owner: str | None,
        due: datetime | None,
        complaint_ids: Sequence[int],
        actor: str,
        *,
        link_cause: bool = False,
        now: datetime | None = None,
    ) -> tuple[int, int]:
        """Open an action; returns its id and how many complaints it covers."""
        self._check_cause(cause)
        if not title.strip():
            raise ActionError("an action needs a title: what will change")
        now = now or datetime.now(UTC)
        with self.uow() as uow:
            missing = [i for i in complaint_ids if uow.complaints.get(i) is None]
            if missing:
                raise ActionError(f"no complaint {', '.join(map(str, missing))}")
            action = Action(title=title.strip(), cause=cause, owner=owner, due=due, status="open",
                            created_at=now, created_by=actor)  # fmt: skip
            action_id = uow.actions.add(action)
            ids = set(complaint_ids)
            if link_cause:
                ids |= set(uow.actions.complaints_with_cause(cause, now - LINK_WINDOW))
            for cid in sorted(ids):
                uow.actions.join(action_id, cid)
            return action_id, len(ids)

    def finish(self, action_id: int, status: str, now: datetime | None = None) -> int:
        """Mark an open action done or dropped."""
        if status not in ("done", "dropped"):
            raise ActionError(f"an action ends done or dropped (got {status!r})")
        now = now or datetime.now(UTC)
        with self.uow() as uow:
            action = uow.actions.get(action_id, lock=True)
            if action is None:
                raise ActionError(f"no action #{action_id}")
            if action.status != "open":
                raise ActionError(f"action #{action_id} is already {action.status}")
            action.status = status
            if status == "done":
                action.done_at = now
            return action_id

    def listing(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every action (or those of one stored status) as the dashboard and CLI show them; an
        open action past its due date shows as overdue."""
        now = datetime.now(UTC)
        with self.uow() as uow:
            return [_row(a, covered, now) for a, covered in uow.actions.listing(status)]


def _row(a: Action, covered: int, now: datetime) -> dict[str, Any]:
    return {
        "id": a.id,
        "title": a.title,
        "cause": a.cause,
        "owner": a.owner,
        "due": a.due.isoformat() if a.due else None,
        "status": "overdue" if a.status == "open" and a.due is not None and a.due < now else a.status,
        "created_at": a.created_at.isoformat(),
        "done_at": a.done_at.isoformat() if a.done_at else None,
        "complaints": covered,
    }
