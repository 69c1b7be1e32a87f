"""An in-memory unit of work built on storage/uow.py's abstract base, for the use cases' unit
tests: rows are the tables' own classes kept in dicts, so a use case runs in microseconds."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any, Self

from core.ingest import IngestPlan, opened_events
from core.model import DraftStatus, Step
from storage import uow
from storage.journal import ALERT_FLAGS
from storage.tables import Complaint, ConversationRow, Draft, Event, Mention, Promise


class FakeStore:
    """What the fake journal holds, shared by every unit of work made on it."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.mentions: dict[int, Mention] = {}
        self.complaints: dict[int, Complaint] = {}
        self.conversations: dict[int, ConversationRow] = {}
        self.events: list[Event] = []
        self.drafts: list[Draft] = []
        self.promises: list[Promise] = []
        self.outbox: dict[str, tuple[str, int | None, dict[str, Any]]] = {}
        self.cards: dict[int, int] = {}
        self.updates: set[int] = set()
        self.commits = 0

    def kinds(self, complaint_id: int) -> list[str]:
        return [e.kind for e in self.events if e.complaint_id == complaint_id]

    def queued(self, kind: str) -> list[dict[str, Any]]:
        return [payload for k, _cid, payload in self.outbox.values() if k == kind]


class FakeComplaints(uow.Complaints):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def get(self, complaint_id: int, *, lock: bool = False) -> Complaint | None:
        return self.store.complaints.get(complaint_id)

    def by_token(self, token: str, *, lock: bool = False) -> Complaint | None:
        return next((c for c in self.store.complaints.values() if c.token == token), None)

    def mention(self, mention_id: int | None) -> Mention | None:
        return self.store.mentions.get(mention_id) if mention_id else None

    def record(self, plan: IngestPlan) -> list[int]:
        s, opened = self.store, []
        for m in plan.mentions:
            mention = Mention(id=next(s.ids), source=plan.source, external_id=m.raw.external_id, text=m.raw.text,
                              author=m.raw.author, title=m.raw.title, language=m.triage.language,
                              kind=m.triage.kind.value, origin=m.raw.origin)  # fmt: skip
            s.mentions[mention.id] = mention
            if m.complaint is None:
                continue
            c = Complaint(id=next(s.ids), mention_id=mention.id, status=m.complaint.status.value,
                          language=m.triage.language, severity=m.triage.severity.value, category=m.triage.category,
                          flags=[f.value for f in m.triage.flags], token=m.complaint.token,
                          created_at=plan.fetched_at, updated_at=plan.fetched_at, publisher=plan.publisher,
                          first_response_due=m.complaint.first_response_due, source=plan.source)  # fmt: skip
            s.complaints[c.id] = c
            s.drafts.append(Draft(complaint_id=c.id, text=m.complaint.draft_text, status=DraftStatus.PROPOSED.value))
            for kind, data in opened_events(m):
                s.events.append(Event(complaint_id=c.id, at=plan.fetched_at, kind=kind, actor="reclaim", data=data))
            s.cards[c.id] = 1
            for flag in m.triage.flags:
                if flag.value in ALERT_FLAGS:
                    s.outbox.setdefault(f"alert:{c.id}:{flag.value}", ("alert", c.id, {"reason": flag.value}))
            opened.append(c.id)
        return opened


class FakeConversations(uow.Conversations):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def get(self, complaint_id: int, *, lock: bool = False) -> ConversationRow | None:
        return self.store.conversations.get(complaint_id)

    def add(self, row: ConversationRow) -> None:
        self.store.conversations[row.complaint_id] = row

    def active_for(self, user_id: int, closed_since: datetime) -> ConversationRow | None:
        rows = [
            r
            for r in self.store.conversations.values()
            if r.customer_id == user_id and (r.step != Step.CLOSED.value or r.updated_at > closed_since)
        ]
        rows.sort(key=lambda r: (r.step == Step.CLOSED.value, -r.updated_at.timestamp()))
        return rows[0] if rows else None

    def of_customer(self, user_id: int) -> list[int]:
        return [r.complaint_id for r in self.store.conversations.values() if r.customer_id == user_id]


class FakeEvents(uow.Events):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(self, complaint_id: int, kind: str, actor: str, data: dict[str, Any], at: datetime) -> None:
        self.store.events.append(Event(complaint_id=complaint_id, at=at, kind=kind, actor=actor, data=data))

    def exists(self, complaint_id: int, kind: str) -> bool:
        return kind in self.store.kinds(complaint_id)


class FakeDrafts(uow.Drafts):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(self, draft: Draft) -> None:
        self.store.drafts.append(draft)


class FakePromises(uow.Promises):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(self, promise: Promise) -> None:
        promise.id = next(self.store.ids)
        self.store.promises.append(promise)

    def _open(self) -> list[Promise]:
        return [p for p in self.store.promises if p.kept_at is None and p.missed_at is None]

    def open_for(self, complaint_id: int) -> list[Promise]:
        return [p for p in self._open() if p.complaint_id == complaint_id]

    def due(self, now: datetime) -> list[Promise]:
        return [p for p in self._open() if p.due <= now]

    def to_remind(self, until: datetime) -> list[Promise]:
        return [p for p in self._open() if p.reminded_at is None and p.due <= until]


class FakeOutbox(uow.Outbox):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(self, key: str, kind: str, complaint_id: int | None, payload: dict[str, Any], now: datetime) -> bool:
        if key in self.store.outbox:
            return False
        self.store.outbox[key] = (kind, complaint_id, payload)
        return True


class FakeCards(uow.Cards):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def bump(self, complaint_id: int) -> None:
        self.store.cards[complaint_id] = self.store.cards.get(complaint_id, 0) + 1


class FakeUpdates(uow.Updates):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def first_time(self, update_id: int | None, now: datetime) -> bool:
        if update_id is None:
            return True
        new = update_id not in self.store.updates
        self.store.updates.add(update_id)
        return new


class FakePrivacy(uow.Privacy):
    """Erasure as far as the conversation's use cases see it (storage/privacy.py is tested on SQL)."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def forget_customer(self, user_id: int, now: datetime) -> int:
        rows = [r for r in self.store.conversations.values() if r.customer_id == user_id]
        for row in rows:
            row.customer_id = row.chat_id = row.customer_name = None
            row.step = Step.CLOSED.value
            self.store.events.append(Event(complaint_id=row.complaint_id, at=now, kind="personal_data_erased"))
        return len(rows)


class FakeUnitOfWork(uow.UnitOfWork):
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.complaints = FakeComplaints(store)
        self.conversations = FakeConversations(store)
        self.events = FakeEvents(store)
        self.drafts = FakeDrafts(store)
        self.promises = FakePromises(store)
        self.outbox = FakeOutbox(store)
        self.cards = FakeCards(store)
        self.updates = FakeUpdates(store)
        self.privacy = FakePrivacy(store)

    def __enter__(self) -> Self:
        return self

    def commit(self) -> None:
        self.store.commits += 1

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass
