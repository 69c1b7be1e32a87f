"""The unit of work over SQLAlchemy: one session, one transaction, the repositories of
storage/uow.py as queries on it (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.ingest import IngestPlan
from core.model import Step
from storage import uow
from storage.inbox import add_outbox, bump_card, first_time
from storage.journal import record_plan
from storage.privacy import forget_customer
from storage.tables import Complaint, ConversationRow, Draft, Event, Mention, Promise

OPEN_STEPS = tuple(s.value for s in Step if s is not Step.CLOSED)


class SqlComplaints(uow.Complaints):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, complaint_id: int, *, lock: bool = False) -> Complaint | None:
        query = select(Complaint).where(Complaint.id == complaint_id)
        return self.session.scalars(query.with_for_update() if lock else query).first()

    def by_token(self, token: str, *, lock: bool = False) -> Complaint | None:
        query = select(Complaint).where(Complaint.token == token)
        return self.session.scalars(query.with_for_update() if lock else query).first()

    def mention(self, mention_id: int | None) -> Mention | None:
        return self.session.get(Mention, mention_id) if mention_id else None

    def record(self, plan: IngestPlan) -> list[int]:
        return list(record_plan(self.session, plan).complaint_ids)


class SqlConversations(uow.Conversations):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, complaint_id: int, *, lock: bool = False) -> ConversationRow | None:
        return self.session.get(ConversationRow, complaint_id, with_for_update=lock or None)

    def add(self, row: ConversationRow) -> None:
        self.session.add(row)

    def active_for(self, user_id: int, closed_since: datetime) -> ConversationRow | None:
        return self.session.scalars(
            select(ConversationRow)
            .where(
                ConversationRow.customer_id == user_id,
                ConversationRow.step.in_(OPEN_STEPS)
                | ((ConversationRow.step == Step.CLOSED.value) & (ConversationRow.updated_at > closed_since)),
            )
            .order_by(ConversationRow.step == Step.CLOSED.value, ConversationRow.updated_at.desc())
            .limit(1)
        ).first()

    def of_customer(self, user_id: int) -> list[int]:
        query = select(ConversationRow.complaint_id).where(ConversationRow.customer_id == user_id)
        return list(self.session.scalars(query))


class SqlEvents(uow.Events):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, complaint_id: int, kind: str, actor: str, data: dict[str, Any], at: datetime) -> None:
        self.session.add(Event(complaint_id=complaint_id, at=at, kind=kind, actor=actor, data=data))

    def exists(self, complaint_id: int, kind: str) -> bool:
        found = select(Event.id).where(Event.complaint_id == complaint_id, Event.kind == kind).limit(1)
        return self.session.scalar(found) is not None


class SqlDrafts(uow.Drafts):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, draft: Draft) -> None:
        self.session.add(draft)


class SqlPromises(uow.Promises):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, promise: Promise) -> None:
        self.session.add(promise)

    def _open(self) -> Any:
        return select(Promise).where(Promise.kept_at.is_(None), Promise.missed_at.is_(None)).order_by(Promise.id)

    def open_for(self, complaint_id: int) -> list[Promise]:
        return list(self.session.scalars(self._open().where(Promise.complaint_id == complaint_id)))

    def due(self, now: datetime) -> list[Promise]:
        query = self._open().where(Promise.due <= now).with_for_update(skip_locked=True)
        return list(self.session.scalars(query))

    def to_remind(self, until: datetime) -> list[Promise]:
        query = self._open().where(Promise.reminded_at.is_(None), Promise.due <= until)
        return list(self.session.scalars(query.with_for_update(skip_locked=True)))


class SqlOutbox(uow.Outbox):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, key: str, kind: str, complaint_id: int | None, payload: dict[str, Any], now: datetime) -> bool:
        return add_outbox(self.session, key=key, kind=kind, complaint_id=complaint_id, payload=payload, now=now)


class SqlCards(uow.Cards):
    def __init__(self, session: Session) -> None:
        self.session = session

    def bump(self, complaint_id: int) -> None:
        bump_card(self.session, complaint_id)


class SqlUpdates(uow.Updates):
    def __init__(self, session: Session) -> None:
        self.session = session

    def first_time(self, update_id: int | None, now: datetime) -> bool:
        return first_time(self.session, update_id, now)


class SqlPrivacy(uow.Privacy):
    def __init__(self, session: Session) -> None:
        self.session = session

    def forget_customer(self, user_id: int, now: datetime) -> int:
        return forget_customer(self.session, user_id, now)


class SqlUnitOfWork(uow.UnitOfWork):
    """A session per ``with``: begun on entry, committed or rolled back on leaving."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.session: Session | None = None

    def __enter__(self) -> Self:
        session = self.session = self.sessions()
        session.begin()
        self.complaints = SqlComplaints(session)
        self.conversations = SqlConversations(session)
        self.events = SqlEvents(session)
        self.drafts = SqlDrafts(session)
        self.promises = SqlPromises(session)
        self.outbox = SqlOutbox(session)
        self.cards = SqlCards(session)
        self.updates = SqlUpdates(session)
        self.privacy = SqlPrivacy(session)
        return self

    def commit(self) -> None:
        assert self.session is not None
        self.session.commit()

    def rollback(self) -> None:
        assert self.session is not None
        self.session.rollback()

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
