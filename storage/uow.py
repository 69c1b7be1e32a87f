"""The unit of work: the use cases' only door to the journal (services/ take one).

A ``UnitOfWork`` is one transaction: ``with uow:`` begins it, leaving the block commits it, an
exception rolls it back. Inside, the repositories read and change rows; each repository is an
abstract class here with two implementations built on it: the SQL one (storage/repositories.py)
and the in-memory fake the use cases' unit tests run against (tests/fakes.py). The rows are the
tables' own classes (storage/tables.py), whose ``advance`` methods are the only writers of a
status (core/lifecycle.py).
"""

from __future__ import annotations

import abc
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self

from core.ingest import CasePlan, IngestPlan
from core.outbox import Payload
from core.ports import CardView
from core.respond import Policy
from storage.journal import Recorded
from storage.privacy import Purged
from storage.tables import (
    Action,
    Complaint,
    ConversationRow,
    Draft,
    FaqEntry,
    Mention,
    Promise,
    StaffPrompt,
    WebUser,
)
from storage.tables import Outbox as OutboxRow
from storage.uow_sources import Sources
from storage.uow_triage import Labels, TriageModels

# a dispatcher round sends everything else first, then at most this many mentions-lane cards, so
# a burst of mentions never holds back complaint cards, alerts and replies (Telegram allows a group
# about 20 messages a minute)
MENTION_CARDS_PER_ROUND = 3


class Complaints(abc.ABC):
    @abc.abstractmethod
    def get(self, complaint_id: int, *, lock: bool = False) -> Complaint | None:
        """A complaint; ``lock`` holds it for this transaction (two presses never interleave)."""

    @abc.abstractmethod
    def by_token(self, token: str, *, lock: bool = False) -> Complaint | None:
        """The complaint whose private link carries ``token``."""

    @abc.abstractmethod
    def mention(self, mention_id: int | None, *, lock: bool = False) -> Mention | None:
        """The post a complaint was opened from; ``lock`` holds it for this transaction."""

    @abc.abstractmethod
    def of_mention(self, mention_id: int) -> Complaint | None:
        """The case opened from a mention, if any."""

    @abc.abstractmethod
    def open_case(self, plan: CasePlan, now: datetime) -> int:
        """Open a case by hand from a mention (storage/cases.py); its id."""

    @abc.abstractmethod
    def record(self, plan: IngestPlan) -> Recorded:
        """Insert a plan's new mentions and open their complaints (draft, first events, card,
        manager alerts), skipping mentions the journal holds (another writer's meanwhile)."""

    @abc.abstractmethod
    def answered_by_policy(self, source: str, author: str, other_than: int, since: datetime) -> bool:
        """Whether the policy approved a reply to another complaint by this author on this source since then."""

    @abc.abstractmethod
    def overdue(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        """Unanswered complaints past their first-response time (id, due), most overdue first."""

    @abc.abstractmethod
    def opened_since(self, since: datetime) -> int:
        """How many complaints were opened since then (answers and thanks are not complaints)."""

    @abc.abstractmethod
    def untaken(self, policy: Policy, before: datetime, since: datetime, limit: int) -> list[int]:
        """Complaints opened between ``since`` and ``before`` whose public reply is still a draft
        and that nobody has taken, of the policy's sources, severities and languages and without a flag it never
        publishes, oldest first (what respond.auto_publish looks at; core.respond decides)."""


class Conversations(abc.ABC):
    @abc.abstractmethod
    def get(self, complaint_id: int, *, lock: bool = False) -> ConversationRow | None: ...

    @abc.abstractmethod
    def add(self, row: ConversationRow) -> None: ...

    @abc.abstractmethod
    def active_for(self, user_id: int, closed_since: datetime) -> ConversationRow | None:
        """The customer's open conversation, else one closed after ``closed_since`` (a comment
        after the rating belongs to it), newest first."""

    @abc.abstractmethod
    def of_customer(self, user_id: int) -> list[int]:
        """The complaints a Telegram user ever opened a conversation on."""


class Events(abc.ABC):
    @abc.abstractmethod
    def add(self, complaint_id: int, kind: str, actor: str, data: dict[str, Any], at: datetime) -> None:
        """Append one entry to the complaint's log."""

    @abc.abstractmethod
    def exists(self, complaint_id: int, kind: str) -> bool: ...

    @abc.abstractmethod
    def names(self, complaint_id: int, kinds: tuple[str, ...]) -> dict[str, str]:
        """Who did each of ``kinds`` last (the ``name`` in the event's data), by kind."""

    @abc.abstractmethod
    def last_by_staff(self, complaint_id: int) -> datetime | None:
        """When someone on the team last did something to the complaint: an event of theirs
        (core.inbox.is_staff), or a text the bot asked them for (Edit, a reason, a step)."""


class Drafts(abc.ABC):
    @abc.abstractmethod
    def add(self, draft: Draft) -> None: ...

    @abc.abstractmethod
    def current(self, complaint_id: int, purpose: str = "reply") -> Draft | None:
        """The newest draft of the public reply (or of the follow-up, ``purpose="follow_up"``)."""


class Promises(abc.ABC):
    @abc.abstractmethod
    def add(self, promise: Promise) -> None: ...

    @abc.abstractmethod
    def open_for(self, complaint_id: int) -> list[Promise]:
        """The complaint's promises neither kept nor missed."""

    @abc.abstractmethod
    def get(self, promise_id: int, *, lock: bool = False) -> Promise | None:
        """A promise as it stands now (``lock``: held for this transaction, read afresh)."""

    @abc.abstractmethod
    def due(self, now: datetime) -> list[Promise]:
        """Open promises whose time has passed, oldest first (not locked: lock the complaint,
        then ``get(id, lock=True)``, as every writer locks a complaint before its promises)."""

    @abc.abstractmethod
    def to_remind(self, until: datetime) -> list[Promise]:
        """Open promises due by ``until`` whose owner was not reminded yet (locked likewise)."""


class Outbox(abc.ABC):
    @abc.abstractmethod
    def add(self, key: str, payload: Payload, complaint_id: int | None, now: datetime, status: str = "") -> bool:
        """Queue one outgoing message (``pending`` unless ``status`` says otherwise); False when
        one with this key exists (each is sent once)."""

    @abc.abstractmethod
    def get(self, outbox_id: int, *, lock: bool = False) -> OutboxRow | None: ...

    @abc.abstractmethod
    def by_key(self, key: str, *, lock: bool = False) -> OutboxRow | None: ...

    @abc.abstractmethod
    def of_complaint(self, complaint_id: int, kinds: tuple[str, ...]) -> list[OutboxRow]: ...

    @abc.abstractmethod
    def in_status(self, status: str) -> list[OutboxRow]: ...

    @abc.abstractmethod
    def claim(self, now: datetime, limit: int) -> list[OutboxRow]:
        """Pending rows due by ``now``, soonest first (locked; rows another worker holds are its)."""

    @abc.abstractmethod
    def next_due(self) -> datetime | None:
        """When the soonest pending row is due."""

    @abc.abstractmethod
    def retire(self, key: str) -> None:
        """Free a sent row's key for a new row (a reply withdrawn, then approved anew): the row
        stays in the journal under ``<key>:retired:<id>``."""

    @abc.abstractmethod
    def queued_since(self, key_prefix: str, since: datetime) -> int:
        """How many rows whose key starts so were queued since then."""


class Cards(abc.ABC):
    @abc.abstractmethod
    def bump(self, complaint_id: int) -> int:
        """The complaint's staff card is due to be drawn again; its new version."""

    @abc.abstractmethod
    def view(self, complaint_id: int) -> CardView | None:
        """What the card shows, as the journal now stands."""

    @abc.abstractmethod
    def due(self, limit: int, only: int | None = None) -> list[tuple[int, int]]:
        """Cards to send or redraw (complaint id, version), or only complaint ``only``'s."""

    @abc.abstractmethod
    def drawn(self, versions: dict[int, int]) -> None:
        """Cards shown in the staff chat, complaint id → version (a version never goes back)."""


class Prompts(abc.ABC):
    """Questions the bot asked a staff member (a new text, a reason), answered by a reply."""

    @abc.abstractmethod
    def add(self, prompt: StaffPrompt) -> None: ...

    @abc.abstractmethod
    def get(self, prompt_id: int) -> StaffPrompt | None: ...

    @abc.abstractmethod
    def find(self, chat_id: int, message_id: int) -> StaffPrompt | None: ...


class Links(abc.ABC):
    @abc.abstractmethod
    def release(self, c: Complaint, now: datetime) -> None:
        """Unbind the private link (storage/links.py): a new token, written into the reply not yet
        posted; the wrong person's conversation dropped and nothing more queued to them."""


class Actions(abc.ABC):
    @abc.abstractmethod
    def for_cause(self, cause: str) -> list[Action]:
        """Corrective actions for a cause that were not dropped."""

    @abc.abstractmethod
    def join(self, action_id: int, complaint_id: int) -> None:
        """The action covers the complaint (once)."""

    @abc.abstractmethod
    def add(self, action: Action) -> int:
        """A new action; its id."""

    @abc.abstractmethod
    def get(self, action_id: int, *, lock: bool = False) -> Action | None: ...

    @abc.abstractmethod
    def listing(self, status: str | None) -> list[tuple[Action, int]]:
        """Actions by id (of one stored status, or all), each with how many complaints it covers."""

    @abc.abstractmethod
    def complaints_with_cause(self, cause: str, since: datetime) -> list[int]:
        """Complaints opened since then whose root cause is ``cause``."""


class Logins(abc.ABC):
    """The dashboard's logins."""

    @abc.abstractmethod
    def by_name(self, name: str, *, lock: bool = False) -> WebUser | None: ...

    @abc.abstractmethod
    def get(self, user_id: int, *, lock: bool = False) -> WebUser | None: ...

    @abc.abstractmethod
    def add(self, row: WebUser) -> int: ...

    @abc.abstractmethod
    def every(self) -> list[WebUser]:
        """Every login, by name."""


class Faq(abc.ABC):
    """The entries of the public questions-and-answers page."""

    @abc.abstractmethod
    def add(self, row: FaqEntry) -> int: ...

    @abc.abstractmethod
    def delete(self, entry_id: int) -> bool:
        """Remove an entry; False when there is none of that id."""

    @abc.abstractmethod
    def entries(self, language: str | None) -> list[FaqEntry]:
        """Entries by language, then id (of one language, or all)."""


class Updates(abc.ABC):
    @abc.abstractmethod
    def first_time(self, update_id: int | None, now: datetime) -> bool:
        """Record a Telegram update id; False when it was acted on before (a redelivery)."""


class Privacy(abc.ABC):
    @abc.abstractmethod
    def forget_customer(self, user_id: int, now: datetime) -> int:
        """Erase everything about one Telegram user (storage/privacy.py); how many complaints."""

    @abc.abstractmethod
    def purge(self, now: datetime, retention: timedelta) -> Purged:
        """Anonymise finished complaints older than ``retention``, delete old mentions that never
        became complaints."""


class Statuses(abc.ABC):
    @abc.abstractmethod
    def set(self, component: str, state: str, at: datetime, detail: str | None, next_at: datetime | None) -> None:
        """How a part of `reclaim run` is doing (the bot: starting, waiting, running, stopped)."""


class Workers(abc.ABC):  # several workers on one journal: source leases, heartbeats (storage/workers.py)
    @abc.abstractmethod
    def enlist(self, first: dict[str, datetime]) -> None: ...

    @abc.abstractmethod
    def claim_due(self, holder: str, now: datetime, limit: int, ttl: timedelta, leader_only: list[str]) -> list[str]: ...  # noqa: E501  # fmt: skip

    @abc.abstractmethod
    def release(self, source: str, holder: str, due: datetime | None) -> None: ...

    @abc.abstractmethod
    def clock(self, now: datetime) -> datetime: ...

    @abc.abstractmethod
    def beat(self, me: Any, silent_after: timedelta) -> list[Any]: ...

    @abc.abstractmethod
    def leave(self, name: str) -> None: ...

    @abc.abstractmethod
    def leads(self, name: str) -> bool: ...

    @abc.abstractmethod
    def polled(self) -> dict[str, datetime | None]: ...

    @abc.abstractmethod
    def stalled_since(self) -> datetime | None: ...


class UnitOfWork(abc.ABC):
    complaints: Complaints
    sources: Sources
    conversations: Conversations
    events: Events
    drafts: Drafts
    promises: Promises
    outbox: Outbox
    cards: Cards
    updates: Updates
    privacy: Privacy
    statuses: Statuses
    prompts: Prompts
    links: Links
    actions: Actions
    logins: Logins
    faq: Faq
    labels: Labels
    models: TriageModels
    workers: Workers

    def __enter__(self) -> Self:
        """Begin the transaction (a new one each time the unit of work is entered)."""
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if exc is None:
                self.commit()
            else:
                self.rollback()
        finally:  # a commit that fails still gives its connection back
            self.close()

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...

    @abc.abstractmethod
    def close(self) -> None:
        """Let the transaction's resources go (the SQL session)."""
