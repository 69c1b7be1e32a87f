"""The unit of work over SQLAlchemy: one session, one transaction, the repositories of
storage/uow.py as queries on it (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Self

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from core import lifecycle
from core.inbox import STAFF_PREFIXES
from core.ingest import CasePlan, IngestPlan
from core.lifecycle import Delivery, Status
from core.model import Step
from core.outbox import OutboxKind, Payload
from core.ports import CardView
from core.respond import NEVER_FLAGS, NEVER_SEVERITY, Policy
from storage import cards, cases, links, uow
from storage.journal import Recorded, record_plan
from storage.outbox import add_outbox
from storage.privacy import Purged, forget_customer, purge
from storage.queries import current_draft
from storage.repositories_office import SqlActions, SqlFaq, SqlLogins
from storage.repositories_sources import SqlSources
from storage.repositories_triage import SqlLabels, SqlTriageModels
from storage.status import set_status
from storage.tables import (
    Complaint,
    ConversationRow,
    Draft,
    Event,
    Mention,
    Outbox,
    Promise,
    StaffPrompt,
)
from storage.updates import first_time
from storage.workers import SqlWorkers

OPEN_STEPS = tuple(s.value for s in Step if s is not Step.CLOSED)
DRAFTED = tuple(s.value for s in lifecycle.OPEN)  # the public reply is still a draft
UNANSWERED = tuple(s.value for s in Status if s in lifecycle.UNANSWERED)  # the first-response clock runs


class SqlComplaints(uow.Complaints):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, complaint_id: int, *, lock: bool = False) -> Complaint | None:
        query = select(Complaint).where(Complaint.id == complaint_id)
        return self.session.scalars(query.with_for_update() if lock else query).first()

    def by_token(self, token: str, *, lock: bool = False) -> Complaint | None:
        query = select(Complaint).where(Complaint.token == token)
        return self.session.scalars(query.with_for_update() if lock else query).first()

    def mention(self, mention_id: int | None, *, lock: bool = False) -> Mention | None:
        return self.session.get(Mention, mention_id, with_for_update=lock) if mention_id else None

    def of_mention(self, mention_id: int) -> Complaint | None:
        return cases.of_mention(self.session, mention_id)

    def open_case(self, plan: CasePlan, now: datetime) -> int:
        return cases.open_case(self.session, plan, now)

    def record(self, plan: IngestPlan) -> Recorded:
        return record_plan(self.session, plan)

    def overdue(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        query = (
            select(Complaint.id, Complaint.first_response_due)
            .where(
                Complaint.status.in_(UNANSWERED),
                Complaint.first_response_due < now,
                Complaint.first_response_at.is_(None),
            )
            .order_by(Complaint.first_response_due)
            .limit(limit)
        )
        return [(cid, due) for cid, due in self.session.execute(query)]

    def opened_since(self, since: datetime) -> int:
        query = select(func.count()).select_from(Complaint)
        query = query.where(Complaint.created_at >= since, Complaint.kind == "complaint")
        return int(self.session.scalar(query) or 0)

    def answered_by_policy(self, source: str, author: str, other_than: int, since: datetime) -> bool:
        query = (
            select(Event.id)
            .join(Complaint, Complaint.id == Event.complaint_id)
            .join(Mention, Mention.id == Complaint.mention_id)
            .where(Event.kind == "approved_by_policy", Event.at >= since, Complaint.id != other_than)
            .where(Mention.source == source, Mention.author == author)
            .limit(1)
        )
        return self.session.scalar(query) is not None

    def untaken(self, policy: Policy, before: datetime, since: datetime, limit: int) -> list[int]:
        flags = cast(Complaint.flags, String)  # a JSON list of names: none of the never-published ones
        posted = func.coalesce(Mention.published_at, Complaint.created_at)
        query = (
            select(Complaint.id)
            .join(Mention, Mention.id == Complaint.mention_id)
            .where(
                posted >= since,
                Complaint.status.in_(DRAFTED),
                Complaint.owner_id.is_(None),
                Complaint.kind == "complaint",
                Complaint.source.in_(sorted(policy.sources)),
                Complaint.severity.in_(sorted(policy.severities - {NEVER_SEVERITY})),
                Complaint.language.in_(sorted(policy.languages)),
                Complaint.publisher != "manual",
                Complaint.created_at <= before,
                *(flags.not_like(f'%"{flag}"%') for flag in sorted(NEVER_FLAGS)),
            )
        )
        return list(self.session.scalars(query.order_by(Complaint.id).limit(limit)))


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

    def names(self, complaint_id: int, kinds: tuple[str, ...]) -> dict[str, str]:
        query = select(Event.kind, Event.data).where(Event.complaint_id == complaint_id, Event.kind.in_(kinds))
        return {
            kind: str((data or {}).get("name") or "") for kind, data in self.session.execute(query.order_by(Event.id))
        }

    def last_by_staff(self, complaint_id: int) -> datetime | None:
        staff = or_(*(Event.actor.startswith(p, autoescape=True) for p in STAFF_PREFIXES), Event.actor == "cli")
        acted = self.session.scalar(select(func.max(Event.at)).where(Event.complaint_id == complaint_id, staff))
        asked = self.session.scalar(
            select(func.max(StaffPrompt.created_at)).where(
                StaffPrompt.complaint_id == complaint_id, StaffPrompt.purpose != "relay"
            )
        )
        return max((t for t in (acted, asked) if t is not None), default=None)


class SqlDrafts(uow.Drafts):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, draft: Draft) -> None:
        self.session.add(draft)

    def current(self, complaint_id: int, purpose: str = "reply") -> Draft | None:
        return current_draft(self.session, complaint_id, purpose)


class SqlPromises(uow.Promises):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, promise: Promise) -> None:
        self.session.add(promise)

    def _open(self) -> Any:
        return select(Promise).where(Promise.kept_at.is_(None), Promise.missed_at.is_(None)).order_by(Promise.id)

    def open_for(self, complaint_id: int) -> list[Promise]:
        return list(self.session.scalars(self._open().where(Promise.complaint_id == complaint_id)))

    def get(self, promise_id: int, *, lock: bool = False) -> Promise | None:
        return self.session.get(Promise, promise_id, with_for_update=lock or None, populate_existing=lock)

    def due(self, now: datetime) -> list[Promise]:
        return list(self.session.scalars(self._open().where(Promise.due <= now)))

    def to_remind(self, until: datetime) -> list[Promise]:
        query = self._open().where(Promise.reminded_at.is_(None), Promise.due <= until)
        return list(self.session.scalars(query.with_for_update(skip_locked=True)))


class SqlOutbox(uow.Outbox):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, key: str, payload: Payload, complaint_id: int | None, now: datetime, status: str = "") -> bool:
        status = status or Delivery.PENDING.value
        return add_outbox(self.session, key=key, payload=payload, complaint_id=complaint_id, now=now, status=status)

    def get(self, outbox_id: int, *, lock: bool = False) -> Outbox | None:
        return self.session.get(Outbox, outbox_id, with_for_update=lock or None)

    def by_key(self, key: str, *, lock: bool = False) -> Outbox | None:
        query = select(Outbox).where(Outbox.key == key)
        return self.session.scalars(query.with_for_update() if lock else query).first()

    def of_complaint(self, complaint_id: int, kinds: tuple[str, ...]) -> list[Outbox]:
        query = select(Outbox).where(Outbox.complaint_id == complaint_id, Outbox.kind.in_(kinds))
        return list(self.session.scalars(query.order_by(Outbox.id)))

    def in_status(self, status: str) -> list[Outbox]:
        return list(self.session.scalars(select(Outbox).where(Outbox.status == status).order_by(Outbox.id)))

    def claim(self, now: datetime, limit: int) -> list[Outbox]:
        due = select(Outbox).where(Outbox.status == Delivery.PENDING.value, Outbox.next_attempt_at <= now)
        first = due.where(Outbox.kind != OutboxKind.MENTION.value)
        rows = list(self.session.scalars(_claimed(first, limit)))
        room = min(limit - len(rows), uow.MENTION_CARDS_PER_ROUND)
        if room > 0:  # the mentions lane's cards after everything else, a few a round
            rows += self.session.scalars(_claimed(due.where(Outbox.kind == OutboxKind.MENTION.value), room))
        return rows

    def next_due(self) -> datetime | None:
        query = select(Outbox.next_attempt_at).where(Outbox.status == Delivery.PENDING.value)
        return self.session.scalar(query.order_by(Outbox.next_attempt_at).limit(1))

    def retire(self, key: str) -> None:
        row = self.by_key(key, lock=True)
        if row is not None:
            row.key = f"{key}:retired:{row.id}"

    def queued_since(self, key_prefix: str, since: datetime) -> int:
        query = select(func.count()).select_from(Outbox).where(Outbox.key.startswith(key_prefix))
        return int(self.session.scalar(query.where(Outbox.created_at >= since)) or 0)


def _claimed(query: Any, limit: int) -> Any:
    return query.order_by(Outbox.next_attempt_at, Outbox.id).limit(limit).with_for_update(skip_locked=True)


class SqlCards(uow.Cards):
    def __init__(self, session: Session) -> None:
        self.session = session

    def bump(self, complaint_id: int) -> int:
        self.session.flush()  # the complaint's own changes first: rows are locked complaint, then card
        return cards.bump_card(self.session, complaint_id)

    def view(self, complaint_id: int) -> CardView | None:
        return cards.card_view(self.session, complaint_id)

    def due(self, limit: int, only: int | None = None) -> list[tuple[int, int]]:
        return cards.due_cards(self.session, limit, only)

    def drawn(self, versions: dict[int, int]) -> None:
        self.session.flush()
        cards.drawn(self.session, versions)


class SqlPrompts(uow.Prompts):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, prompt: StaffPrompt) -> None:
        self.session.add(prompt)

    def get(self, prompt_id: int) -> StaffPrompt | None:
        return self.session.get(StaffPrompt, prompt_id)

    def find(self, chat_id: int, message_id: int) -> StaffPrompt | None:
        query = select(StaffPrompt).where(StaffPrompt.chat_id == chat_id, StaffPrompt.message_id == message_id)
        return self.session.scalars(query).first()


class SqlLinks(uow.Links):
    def __init__(self, session: Session) -> None:
        self.session = session

    def release(self, c: Complaint, now: datetime) -> None:
        links.release(self.session, c, now)


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

    def purge(self, now: datetime, retention: timedelta) -> Purged:
        return purge(self.session, now, retention)


class SqlStatuses(uow.Statuses):
    def __init__(self, session: Session) -> None:
        self.session = session

    def set(self, component: str, state: str, at: datetime, detail: str | None, next_at: datetime | None) -> None:
        set_status(self.session, component, state, at, detail, next_at)


class SqlUnitOfWork(uow.UnitOfWork):
    """A session per ``with``: begun on entry, committed or rolled back on leaving."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.session: Session | None = None

    def __enter__(self) -> Self:
        session = self.session = self.sessions()
        session.begin()
        self.complaints = SqlComplaints(session)
        self.sources = SqlSources(session)
        self.conversations = SqlConversations(session)
        self.events = SqlEvents(session)
        self.drafts = SqlDrafts(session)
        self.promises = SqlPromises(session)
        self.outbox = SqlOutbox(session)
        self.cards = SqlCards(session)
        self.updates = SqlUpdates(session)
        self.privacy = SqlPrivacy(session)
        self.statuses = SqlStatuses(session)
        self.prompts = SqlPrompts(session)
        self.links = SqlLinks(session)
        self.actions = SqlActions(session)
        self.logins = SqlLogins(session)
        self.faq = SqlFaq(session)
        self.labels = SqlLabels(session)
        self.models = SqlTriageModels(session)
        self.workers = SqlWorkers(session)
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
