"""The unit of work's repositories for the office's own rows: corrective actions, dashboard
logins and the FAQ's entries (storage/uow.py declares them; SqlUnitOfWork builds them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import uow
from storage.tables import Action, ActionComplaint, Complaint, FaqEntry, WebUser


class SqlActions(uow.Actions):
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_cause(self, cause: str) -> list[Action]:
        return list(self.session.scalars(select(Action).where(Action.cause == cause, Action.status != "dropped")))

    def join(self, action_id: int, complaint_id: int) -> None:
        if self.session.get(ActionComplaint, (action_id, complaint_id)) is None:
            self.session.add(ActionComplaint(action_id=action_id, complaint_id=complaint_id))

    def add(self, action: Action) -> int:
        self.session.add(action)
        self.session.flush()
        return action.id

    def get(self, action_id: int, *, lock: bool = False) -> Action | None:
        return self.session.get(Action, action_id, with_for_update=lock)

    def listing(self, status: str | None) -> list[tuple[Action, int]]:
        query = select(Action).order_by(Action.id)
        if status:
            query = query.where(Action.status == status)
        counts = select(ActionComplaint.action_id, func.count()).group_by(ActionComplaint.action_id)
        covered: dict[int, int] = {int(a): int(n) for a, n in self.session.execute(counts)}
        return [(a, covered.get(a.id, 0)) for a in self.session.scalars(query)]

    def complaints_with_cause(self, cause: str, since: datetime) -> list[int]:
        query = select(Complaint.id).where(Complaint.root_cause == cause, Complaint.created_at >= since)
        return list(self.session.scalars(query))


class SqlLogins(uow.Logins):
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_name(self, name: str, *, lock: bool = False) -> WebUser | None:
        query = select(WebUser).where(WebUser.name == name)
        return self.session.scalar(query.with_for_update() if lock else query)

    def get(self, user_id: int, *, lock: bool = False) -> WebUser | None:
        return self.session.get(WebUser, user_id, with_for_update=lock)

    def add(self, row: WebUser) -> int:
        self.session.add(row)
        self.session.flush()
        return row.id

    def every(self) -> list[WebUser]:
        return list(self.session.scalars(select(WebUser).order_by(WebUser.name)))


class SqlFaq(uow.Faq):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: FaqEntry) -> int:
        self.session.add(row)
        self.session.flush()
        return row.id

    def delete(self, entry_id: int) -> bool:
        row = self.session.get(FaqEntry, entry_id)
        if row is not None:
            self.session.delete(row)
        return row is not None

    def entries(self, language: str | None) -> list[FaqEntry]:
        query = select(FaqEntry).order_by(FaqEntry.language, FaqEntry.id)
        return list(self.session.scalars(query.where(FaqEntry.language == language) if language else query))
