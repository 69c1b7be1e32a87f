"""An in-memory unit of work built on storage/uow.py's abstract base, for the use cases' unit
tests: rows are the tables' own classes kept in dicts, so a use case runs in microseconds.

It keeps what the SQL repositories promise (once per key, versions that never go back, held
mentions skipped, erasure cancelling what was queued), except two things a test must not lean
on: a rollback does not undo writes, and locks are not taken (concurrency is tested on SQL)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Self

from core import lifecycle
from core.inbox import is_staff
from core.ingest import CasePlan, IngestPlan, new_token, opened_events
from core.lifecycle import Delivery, Status
from core.lifecycle import Event as E
from core.model import DraftStatus, Kind, Step
from core.outbox import Alert, Erased, MentionCard, OutboxKind, Payload, to_json
from core.ports import CardView
from core.respond import NEVER_FLAGS, NEVER_SEVERITY, Policy
from storage import uow
from storage.journal import ALERT_FLAGS, Recorded
from storage.privacy import Purged
from storage.tables import (
    Action,
    Complaint,
    ConversationRow,
    Draft,
    Event,
    FaqEntry,
    Mention,
    Outbox,
    Promise,
    SourceState,
    StaffPrompt,
    WebUser,
)
from storage.tables_triage import Label, TriageModel
from tests.fakes_office import FakeActions, FakeFaq, FakeLabels, FakeLogins, FakeTriageModels


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
        self.outbox: dict[str, Outbox] = {}
        self.cards: dict[int, int] = {}  # complaint id → the card's newest version
        self.drawn: dict[int, int] = {}  # complaint id → the version shown
        self.prompts: list[StaffPrompt] = []
        self.actions: list[Action] = []
        self.covered: set[tuple[int, int]] = set()  # (action id, complaint id)
        self.logins: list[WebUser] = []
        self.faq: list[FaqEntry] = []
        self.labels: dict[int, Label] = {}  # mention id → its label
        self.models: list[TriageModel] = []
        self.updates: set[int] = set()
        self.sources: dict[str, SourceState] = {}
        self.statuses: dict[str, tuple[str, str | None]] = {}
        self.commits = 0

    def kinds(self, complaint_id: int) -> list[str]:
        return [e.kind for e in self.events if e.complaint_id == complaint_id]

    def queued(self, kind: str) -> list[dict[str, Any]]:
        return [row.payload for row in self.outbox.values() if row.kind == kind]


class FakeComplaints(uow.Complaints):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def get(self, complaint_id: int, *, lock: bool = False) -> Complaint | None:
        return self.store.complaints.get(complaint_id)

    def by_token(self, token: str, *, lock: bool = False) -> Complaint | None:
        return next((c for c in self.store.complaints.values() if c.token == token), None)

    def mention(self, mention_id: int | None, *, lock: bool = False) -> Mention | None:
        return self.store.mentions.get(mention_id) if mention_id else None

    def of_mention(self, mention_id: int) -> Complaint | None:
        return next((c for c in self.store.complaints.values() if c.mention_id == mention_id), None)

    def open_case(self, plan: CasePlan, now: datetime) -> int:
        t, p, s = plan.triage, plan.complaint, self.store
        c = Complaint(id=next(s.ids), mention_id=plan.mention_id, kind=plan.kind.value, status=p.status.value,
                      language=t.language, severity=t.severity.value, category=t.category,
                      flags=[f.value for f in t.flags], token=p.token, created_at=plan.detected_at, updated_at=now,
                      publisher=plan.publisher, first_response_due=p.first_response_due, source=plan.source)  # fmt: skip
        s.complaints[c.id] = c
        FakeDrafts(s).add(Draft(complaint_id=c.id, text=p.draft_text, status=DraftStatus.PROPOSED.value))
        opened = {Kind.COMPLAINT: "promoted", Kind.QUESTION: "answer_opened", Kind.PRAISE: "thanks_opened"}
        s.events.append(Event(complaint_id=c.id, at=now, kind=opened[plan.kind], actor=plan.actor, data={}))
        s.cards[c.id] = 1
        return c.id

    def record(self, plan: IngestPlan) -> Recorded:
        s, opened, added = self.store, [], 0
        held = {(m.source, m.external_id) for m in s.mentions.values()}
        for m in plan.mentions:
            if (plan.source, m.raw.external_id) in held:  # another writer's meanwhile: ON CONFLICT DO NOTHING
                continue
            added += 1
            mention = Mention(id=next(s.ids), source=plan.source, external_id=m.raw.external_id, text=m.raw.text,
                              author=m.raw.author, title=m.raw.title, language=m.triage.language,
                              kind=m.triage.kind.value, origin=m.raw.origin, rating=m.raw.rating,
                              fetched_at=plan.fetched_at, triage=m.triage.record(),
                              lane="open" if m.lane else None)  # fmt: skip
            s.mentions[mention.id] = mention
            if m.lane:
                FakeOutbox(s).add(f"mention:{mention.id}", MentionCard(mention.id), None, plan.fetched_at)
            if m.complaint is None:
                continue
            c = Complaint(id=next(s.ids), mention_id=mention.id, kind="complaint", status=m.complaint.status.value,
                          language=m.triage.language, severity=m.triage.severity.value, category=m.triage.category,
                          flags=[f.value for f in m.triage.flags], token=m.complaint.token,
                          created_at=plan.fetched_at, updated_at=plan.fetched_at, publisher=plan.publisher,
                          first_response_due=m.complaint.first_response_due, source=plan.source)  # fmt: skip
            s.complaints[c.id] = c
            draft = Draft(complaint_id=c.id, text=m.complaint.draft_text, status=DraftStatus.PROPOSED.value)
            FakeDrafts(s).add(draft)
            for kind, data in opened_events(m):
                s.events.append(Event(complaint_id=c.id, at=plan.fetched_at, kind=kind, actor="reclaim", data=data))
            s.cards[c.id] = 1
            for flag in m.triage.flags:
                if flag.value in ALERT_FLAGS:
                    FakeOutbox(s).add(f"alert:{c.id}:{flag.value}", Alert(flag.value), c.id, plan.fetched_at)
            opened.append(c.id)
        return Recorded(added, len(opened), tuple(opened))

    def untaken(self, policy: Policy, before: datetime, since: datetime, limit: int) -> list[int]:
        drafted = {s.value for s in lifecycle.OPEN}
        found = [c.id for c in self.store.complaints.values() if c.status in drafted and c.owner_id is None
                 and c.kind == "complaint" and c.source in policy.sources and c.created_at <= before
                 and since <= (getattr(self.store.mentions.get(c.mention_id), "published_at", None)
                                or c.created_at)
                 and c.publisher != "manual"
                 and c.severity in policy.severities - {NEVER_SEVERITY} and c.language in policy.languages
                 and not NEVER_FLAGS.intersection(c.flags)]  # fmt: skip
        return sorted(found)[:limit]

    def answered_by_policy(self, source: str, author: str, other_than: int, since: datetime) -> bool:
        s = self.store
        for e in s.events:
            c = s.complaints.get(e.complaint_id)
            m = s.mentions.get(c.mention_id) if c is not None and c.mention_id else None
            if e.kind == "approved_by_policy" and e.at >= since and c is not None and c.id != other_than \
                    and m is not None and m.source == source and m.author == author:  # fmt: skip
                return True
        return False

    def overdue(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        late = [
            (c.id, c.first_response_due)
            for c in self.store.complaints.values()
            if Status(c.status) in lifecycle.UNANSWERED and c.first_response_at is None and c.first_response_due < now
        ]
        return sorted(late, key=lambda pair: pair[1])[:limit]

    def opened_since(self, since: datetime) -> int:
        return sum(1 for c in self.store.complaints.values() if c.created_at >= since and c.kind == "complaint")


class FakeSources(uow.Sources):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def known(self, source: str, external_ids: Iterable[str]) -> set[str]:
        held = {(m.source, m.external_id) for m in self.store.mentions.values()}
        return {i for i in external_ids if (source, i) in held}

    def state(self, name: str) -> SourceState:
        new = SourceState(name=name, consecutive_failures=0, items_seen=0, mentions_added=0)
        return self.store.sources.setdefault(name, new)

    def validators(self, names: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        wanted = set(names)
        return {name: (s.etag, s.last_modified) for name, s in self.store.sources.items() if name in wanted}

    def cursor(self, name: str) -> dict[str, object]:
        state = self.store.sources.get(name)
        return dict(state.cursor or {}) if state is not None else {}

    def mark(self, names: Iterable[str], values: dict[str, Any]) -> None:
        for name in names:
            if (state := self.store.sources.get(name)) is not None:
                for key, value in values.items():
                    setattr(state, key, value)


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

    def names(self, complaint_id: int, kinds: tuple[str, ...]) -> dict[str, str]:
        return {
            e.kind: str((e.data or {}).get("name") or "")
            for e in self.store.events
            if e.complaint_id == complaint_id and e.kind in kinds
        }

    def last_by_staff(self, complaint_id: int) -> datetime | None:
        times = [e.at for e in self.store.events if e.complaint_id == complaint_id and is_staff(e.actor)]
        times += [p.created_at for p in self.store.prompts if p.complaint_id == complaint_id and p.purpose != "relay"]
        return max(times, default=None)


class FakeDrafts(uow.Drafts):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(self, draft: Draft) -> None:
        draft.id = next(self.store.ids)
        draft.purpose = draft.purpose or "reply"
        self.store.drafts.append(draft)

    def current(self, complaint_id: int, purpose: str = "reply") -> Draft | None:
        mine = [d for d in self.store.drafts if d.complaint_id == complaint_id and (d.purpose or "reply") == purpose]
        return mine[-1] if mine else None


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

    def get(self, promise_id: int, *, lock: bool = False) -> Promise | None:
        return next((p for p in self.store.promises if p.id == promise_id), None)

    def due(self, now: datetime) -> list[Promise]:
        return [p for p in self._open() if p.due <= now]

    def to_remind(self, until: datetime) -> list[Promise]:
        return [p for p in self._open() if p.reminded_at is None and p.due <= until]


class FakeOutbox(uow.Outbox):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def retire(self, key: str) -> None:
        row = self.store.outbox.pop(key, None)
        if row is not None:
            row.key = f"{key}:retired:{row.id}"
            self.store.outbox[row.key] = row

    def add(self, key: str, payload: Payload, complaint_id: int | None, now: datetime, status: str = "") -> bool:
        if key in self.store.outbox:
            return False
        self.store.outbox[key] = Outbox(
            id=next(self.store.ids), key=key, kind=payload.kind.value, complaint_id=complaint_id,
            payload=to_json(payload), status=status or Delivery.PENDING.value, attempts=0, next_attempt_at=now,
            created_at=now, updated_at=now,
        )  # fmt: skip
        return True

    def get(self, outbox_id: int, *, lock: bool = False) -> Outbox | None:
        return next((r for r in self.store.outbox.values() if r.id == outbox_id), None)

    def by_key(self, key: str, *, lock: bool = False) -> Outbox | None:
        return self.store.outbox.get(key)

    def of_complaint(self, complaint_id: int, kinds: tuple[str, ...]) -> list[Outbox]:
        return [r for r in self.store.outbox.values() if r.complaint_id == complaint_id and r.kind in kinds]

    def in_status(self, status: str) -> list[Outbox]:
        return [r for r in self.store.outbox.values() if r.status == status]

    def claim(self, now: datetime, limit: int) -> list[Outbox]:
        due = sorted((r for r in self.in_status(Delivery.PENDING.value) if r.next_attempt_at <= now),
                     key=lambda r: (r.next_attempt_at, r.id))  # fmt: skip
        rows = [r for r in due if r.kind != "mention"][:limit]
        room = min(limit - len(rows), uow.MENTION_CARDS_PER_ROUND)
        return rows + [r for r in due if r.kind == "mention"][: max(room, 0)]

    def next_due(self) -> datetime | None:
        return min((r.next_attempt_at for r in self.in_status(Delivery.PENDING.value)), default=None)

    def queued_since(self, key_prefix: str, since: datetime) -> int:
        return sum(1 for r in self.store.outbox.values() if r.key.startswith(key_prefix) and r.created_at >= since)


class FakeCards(uow.Cards):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def bump(self, complaint_id: int) -> int:
        self.store.cards[complaint_id] = self.store.cards.get(complaint_id, 0) + 1
        return self.store.cards[complaint_id]

    def view(self, complaint_id: int) -> CardView | None:
        """The card's facts the use cases decide on (the full view is storage/cards.py's, on SQL)."""
        c = self.store.complaints.get(complaint_id)
        if c is None:
            return None
        m = self.store.mentions.get(c.mention_id) if c.mention_id else None
        draft = FakeDrafts(self.store).current(c.id)
        names = FakeEvents(self.store).names(c.id, ("approved", "published", "draft_edited"))
        return CardView(
            id=c.id, status=Status(c.status), source=c.source or "", url=None, author=m.author if m else None,
            title=None, text=m.text if m else "", rating=None, language=c.language, kind="complaint",
            flags=tuple(c.flags or ()), severity=c.severity, category=c.category, created_at=c.created_at,
            due=c.first_response_due, responded_at=c.first_response_at, draft=draft.text if draft else "",
            draft_edited_by=names.get("draft_edited"), owner_id=c.owner_id, owner_name=c.owner_name,
            publisher=c.publisher, reject_reason=c.reject_reason, approved_by=names.get("approved"),
            published_by=names.get("published"), publish_error=None, card_chat_id=c.card_chat_id,
            card_message_id=c.card_message_id, follow_up=c.follow_up, root_cause=c.root_cause, justified=c.justified,
        )  # fmt: skip

    def due(self, limit: int, only: int | None = None) -> list[tuple[int, int]]:
        due = [(cid, v) for cid, v in sorted(self.store.cards.items()) if v > self.store.drawn.get(cid, 0)]
        return [(cid, v) for cid, v in due if only is None or cid == only][:limit]

    def drawn(self, versions: dict[int, int]) -> None:
        for cid, v in versions.items():
            self.store.drawn[cid] = max(self.store.drawn.get(cid, 0), v)


class FakePrompts(uow.Prompts):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(self, prompt: StaffPrompt) -> None:
        prompt.id = next(self.store.ids)
        self.store.prompts.append(prompt)

    def get(self, prompt_id: int) -> StaffPrompt | None:
        return next((p for p in self.store.prompts if p.id == prompt_id), None)

    def find(self, chat_id: int, message_id: int) -> StaffPrompt | None:
        return next((p for p in self.store.prompts if (p.chat_id, p.message_id) == (chat_id, message_id)), None)


class FakeLinks(uow.Links):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def release(self, c: Complaint, now: datetime) -> None:
        old, c.token = c.token, new_token()
        for d in self.store.drafts:
            if d.complaint_id == c.id:
                d.text = d.text.replace(old, c.token)
        publish = self.store.outbox.get(f"publish:{c.id}")
        if publish is not None and publish.status in ("pending", "manual", "failed"):
            publish.payload = {**publish.payload, "text": str(publish.payload.get("text") or "").replace(old, c.token)}
        self.store.conversations.pop(c.id, None)
        for row in FakeOutbox(self.store).of_complaint(c.id, ("say", "remind")):
            row.advance(E.WITHDRAWN, now)


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
            for item in FakeOutbox(self.store).of_complaint(row.complaint_id, ("say", "relay", "publish", "remind")):
                item.payload = to_json(Erased(OutboxKind(item.kind)))
                item.advance(E.FORGOTTEN, now)  # a row not sent yet is cancelled
            self.store.events.append(Event(complaint_id=row.complaint_id, at=now, kind="personal_data_erased"))
        return len(rows)

    def purge(self, now: datetime, retention: timedelta) -> Purged:
        raise NotImplementedError("erasure is tested on SQL (tests/integration/test_privacy.py)")


class FakeStatuses(uow.Statuses):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def set(self, component: str, state: str, at: datetime, detail: str | None, next_at: datetime | None) -> None:
        self.store.statuses[component] = (state, detail)


class FakeUnitOfWork(uow.UnitOfWork):
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.complaints = FakeComplaints(store)
        self.sources = FakeSources(store)
        self.conversations = FakeConversations(store)
        self.events = FakeEvents(store)
        self.drafts = FakeDrafts(store)
        self.promises = FakePromises(store)
        self.outbox = FakeOutbox(store)
        self.cards = FakeCards(store)
        self.updates = FakeUpdates(store)
        self.privacy = FakePrivacy(store)
        self.statuses = FakeStatuses(store)
        self.prompts = FakePrompts(store)
        self.links = FakeLinks(store)
        self.actions = FakeActions(store)
        self.logins = FakeLogins(store)
        self.faq = FakeFaq(store)
        self.labels = FakeLabels(store)
        self.models = FakeTriageModels(store)

    def __enter__(self) -> Self:
        return self

    def commit(self) -> None:
        self.store.commits += 1

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass
