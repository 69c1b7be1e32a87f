"""Root causes and corrective actions in the journal.

A complaint's cause is recorded by its owner when it is resolved. An action covers many
complaints; while it is open, complaints with its cause join it. A cause that comes back
after its action was marked done raises a manager alert, once per action and complaint:
"the fix for late delivery did not hold".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.tables import Action, ActionComplaint, Complaint

OTHER = "other"


class ActionError(ValueError):
    """A request about actions that cannot be done, in words for the person who asked."""


class SqlActions:
    def __init__(self, sessions: sessionmaker[Session], causes: Sequence[str]) -> None:
        self.sessions, self.causes = sessions, list(causes)

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
        with self.sessions.begin() as session:
            missing = [i for i in complaint_ids if session.get(Complaint, i) is None]
            if missing:
                raise ActionError(f"no complaint {', '.join(map(str, missing))}")
            a = Action(title=title.strip(), cause=cause, owner=owner, due=due, status="open", created_at=now,
                       created_by=actor)  # fmt: skip
            session.add(a)
            session.flush()
            ids = set(complaint_ids)
            if link_cause:
                since = now - timedelta(days=90)
                ids |= set(session.scalars(
                    select(Complaint.id).where(Complaint.root_cause == cause, Complaint.created_at >= since)
                ))  # fmt: skip
            for cid in sorted(ids):
                session.add(ActionComplaint(action_id=a.id, complaint_id=cid))
            return a.id, len(ids)

    def finish(self, action_id: int, status: str, now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        with self.sessions.begin() as session:
            a = session.get(Action, action_id)
            if a is None:
                raise ActionError(f"no action #{action_id}")
            if a.status != "open":
                raise ActionError(f"action #{action_id} is already {a.status}")
            a.status = status
            if status == "done":
                a.done_at = now
            return a.id

    def list(self, status: str | None = None) -> list[dict[str, Any]]:
        with self.sessions() as session:
            query = select(Action).order_by(Action.id)
            if status:
                query = query.where(Action.status == status)
            covered = dict(
                session.execute(
                    select(ActionComplaint.action_id, func.count()).group_by(ActionComplaint.action_id)
                ).all()
            )
            now = datetime.now(UTC)
            return [
                {
                    "id": a.id,
                    "title": a.title,
                    "cause": a.cause,
                    "owner": a.owner,
                    "due": a.due.isoformat() if a.due else None,
                    "status": "overdue" if a.status == "open" and a.due is not None and a.due < now else a.status,
                    "created_at": a.created_at.isoformat(),
                    "done_at": a.done_at.isoformat() if a.done_at else None,
                    "complaints": covered.get(a.id, 0),
                }
                for a in session.scalars(query)
            ]
