"""The unit of work: the use cases' only door to the journal (services/ take one).

A ``UnitOfWork`` is one transaction: ``with uow:`` begins it, leaving the block commits it,
an exception rolls it back. Inside, the repositories read and change rows; each repository
is an abstract class here with two implementations built on it: the SQL one
(storage/repositories.py) and the in-memory fake the use cases' unit tests run against
(tests/fakes.py). The rows are the tables' own classes (storage/tables.py), whose
``advance`` methods are the only writers of a status (core/lifecycle.py).
"""

from __future__ import annotations

import abc
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from core.ingest import IngestPlan
from storage.tables import Complaint, ConversationRow, Draft, Mention, Promise


class Complaints(abc.ABC):
    @abc.abstractmethod
    def get(self, complaint_id: int, *, lock: bool = False) -> Complaint | None:
        """A complaint; ``lock`` holds it for this transaction (two presses never interleave)."""

    @abc.abstractmethod
    def by_token(self, token: str, *, lock: bool = False) -> Complaint | None:
        """The complaint whose private link carries ``token``."""

    @abc.abstractmethod
    def mention(self, mention_id: int | None) -> Mention | None:
        """The post a complaint was opened from."""

    @abc.abstractmethod
    def record(self, plan: IngestPlan) -> list[int]:
        """Insert a plan's new mentions and open their complaints (draft, first events, card,
        manager alerts), skipping mentions the journal holds; the ids of the complaints opened."""


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


class Drafts(abc.ABC):
    @abc.abstractmethod
    def add(self, draft: Draft) -> None: ...


class Promises(abc.ABC):
    @abc.abstractmethod
    def add(self, promise: Promise) -> None: ...

    @abc.abstractmethod
    def open_for(self, complaint_id: int) -> list[Promise]:
        """The complaint's promises neither kept nor missed."""

    @abc.abstractmethod
    def due(self, now: datetime) -> list[Promise]:
        """Open promises whose time has passed, oldest first (locked; rows another worker holds
        are left to it)."""

    @abc.abstractmethod
    def to_remind(self, until: datetime) -> list[Promise]:
        """Open promises due by ``until`` whose owner was not reminded yet (locked likewise)."""


class Outbox(abc.ABC):
    @abc.abstractmethod
    def add(self, key: str, kind: str, complaint_id: int | None, payload: dict[str, Any], now: datetime) -> bool:
        """Queue one outgoing message; False when one with this key exists (each is sent once)."""


class Cards(abc.ABC):
    @abc.abstractmethod
    def bump(self, complaint_id: int) -> None:
        """The complaint's staff card is due to be drawn again."""


class Updates(abc.ABC):
    @abc.abstractmethod
    def first_time(self, update_id: int | None, now: datetime) -> bool:
        """Record a Telegram update id; False when it was acted on before (a redelivery)."""


class Privacy(abc.ABC):
    @abc.abstractmethod
    def forget_customer(self, user_id: int, now: datetime) -> int:
        """Erase everything about one Telegram user (storage/privacy.py); how many complaints."""


class UnitOfWork(abc.ABC):
    complaints: Complaints
    conversations: Conversations
    events: Events
    drafts: Drafts
    promises: Promises
    outbox: Outbox
    cards: Cards
    updates: Updates
    privacy: Privacy

    def __enter__(self) -> Self:
        """Begin the transaction (a new one each time the unit of work is entered)."""
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is None:
            self.commit()
        else:
            self.rollback()
        self.close()

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...

    @abc.abstractmethod
    def close(self) -> None:
        """Let the transaction's resources go (the SQL session)."""
