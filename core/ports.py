"""What the use cases and the faces (the bot, the dashboard) exchange: the result of a staff
action, a prompt, the card's view, and the stores each face is given (services/ implements
them over the unit of work)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from core.inbox import Action, Staff
from core.lifecycle import Status as S
from core.outbox import OutboxItem


@dataclass(frozen=True, slots=True)
class Applied:
    """What a staff action did, for the bot to tell the presser."""

    notice: str
    changed: bool = False
    ask: str | None = None
    duplicate: bool = False
    card: CardView | None = None  # the card as the change left it, to redraw at once
    version: int = 0  # its version in the card queue


@dataclass(frozen=True, slots=True)
class Prompt:
    id: int
    complaint_id: int
    user_id: int
    purpose: str
    answered: bool


@dataclass(frozen=True, slots=True)
class CardView:
    """Everything a staff card shows about one complaint."""

    id: int
    status: S
    source: str
    url: str | None
    author: str | None
    title: str | None
    text: str
    rating: float | None
    language: str
    kind: str
    flags: tuple[str, ...]
    severity: str
    category: str
    created_at: datetime
    due: datetime
    responded_at: datetime | None
    draft: str
    draft_edited_by: str | None
    owner_id: int | None
    owner_name: str | None
    publisher: str
    reject_reason: str | None
    approved_by: str | None
    published_by: str | None
    publish_error: str | None
    card_chat_id: int | None
    card_message_id: int | None
    conversation_step: str | None = None  # None: the customer has not opened the private chat
    insults: int = 0
    reply_url: str | None = None  # our public reply, where the publisher posted it
    score: int | None = None  # the post's score where the place has one (Reddit)
    follow_up: str | None = None  # the public follow-up's state: proposed, queued, posted, ...
    follow_up_text: str = ""
    root_cause: str | None = None
    justified: bool | None = None
    failed_sends: tuple[str, ...] = ()  # outbox rows given up: "#12 say: chat not found"
    customer_name: str | None = None  # who opened the private link (Telegram first name)
    customer_username: str | None = None  # and their @username, when they have one
    by_policy: str | None = None  # published by respond.auto_publish after this long without a staff action
    amendable: bool = False  # our public reply is out where its publisher can edit or delete it
    new_link: str | None = None  # the token of the link made when the owner released the old one
    case: str = "complaint"  # what the case answers: a complaint, a question, praise


T = TypeVar("T")


class Customer(Protocol):
    """Who wrote: a Telegram user in their private chat with the bot."""

    @property
    def user_id(self) -> int: ...
    @property
    def chat_id(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def username(self) -> str | None: ...


class InThread(Protocol):
    """Runs a blocking journal call off the event loop (``asyncio.to_thread``, or the app's
    database threads)."""

    def __call__(self, fn: Callable[..., T], /, *args: Any) -> Awaitable[T]: ...


class StaffStore(Protocol):
    """What the staff's buttons and replies need (services/staff.py implements it)."""

    def act(self, complaint_id: int, action: Action, who: Staff, arg: str | None, update_id: int | None) -> Applied: ...
    def save_edit(self, prompt: Prompt, who: Staff, text: str, update_id: int | None) -> Applied: ...
    def add_prompt(self, chat_id: int, message_id: int, complaint_id: int, user_id: int, purpose: str) -> None: ...
    def find_prompt(self, chat_id: int, message_id: int) -> Prompt | None: ...
    def card(self, complaint_id: int) -> CardView | None: ...


class DeliveryStore(Protocol):
    """What the dispatcher needs: cards to draw and outbox rows to send (services/delivery.py)."""

    def card(self, complaint_id: int) -> CardView | None: ...
    def due_cards(self, limit: int, only: int | None = None) -> list[tuple[int, int]]: ...
    def card_sent(self, complaint_id: int, version: int, chat_id: int | None, message_id: int | None) -> None: ...
    def cards_drawn(self, versions: dict[int, int]) -> None: ...
    def add_prompt(self, chat_id: int, message_id: int, complaint_id: int, user_id: int, purpose: str) -> None: ...
    def progress(self, outbox_id: int, sent: int) -> None: ...
    def recover(self, checkable: frozenset[str] = frozenset()) -> int: ...
    def claim(self, limit: int) -> list[OutboxItem]: ...
    def sent(self, item: OutboxItem, result: dict[str, Any]) -> None: ...
    def retry(self, item: OutboxItem, error: str, delay: timedelta, transient: bool = False) -> None: ...
    def unconfirmed(self, item: OutboxItem, error: str) -> None: ...
    def refused(self, item: OutboxItem, error: str) -> None: ...
    def failed(self, item: OutboxItem, error: str) -> None: ...
    def next_due(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class MentionView:
    """What a mention's compact card in the mentions lane shows."""

    id: int
    source: str
    url: str | None
    author: str | None
    title: str | None
    text: str
    language: str
    kind: str
    unsure: bool
    p_complaint: float | None
    fetched_at: datetime
    lane: str | None  # open, promoted, answered, thanked, ignored
    lane_by: str | None
    case_id: int | None  # the case opened from it (a complaint, an answer, a thanks)
    faq: tuple[tuple[int, str], ...] = ()  # for a question: the FAQ entries that match best (id, question)


@dataclass(frozen=True, slots=True)
class LaneApplied:
    """What a press in the mentions lane did."""

    notice: str  # promoted, answered, thanked, ignored, already_done, unknown_mention
    case_id: int | None = None
    changed: bool = False
    view: MentionView | None = None


class MentionStore(Protocol):
    """What the mentions lane needs (services/mentions.py implements it)."""

    def act(self, mention_id: int, action: str, who: Staff, update_id: int | None) -> LaneApplied: ...
    def view(self, mention_id: int) -> MentionView | None: ...
