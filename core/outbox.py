"""The outbox's kinds of message, typed: every message that leaves the process is one of these
payloads, queued in the transaction of the change that caused it and sent by the dispatcher's
handler for its kind (bot/dispatch.py). The journal keeps a payload as JSON (``to_json``);
``from_json`` reads it back, so a row written by an older version still reads.

| kind     | payload    | goes to                                   |
|----------|------------|-------------------------------------------|
| alert    | ``Alert``    | the managers' chat                        |
| publish  | ``Publish``  | the public place (a publisher), or a person |
| say      | ``Say``      | the customer's private chat, in order     |
| relay    | ``Relay``    | the complaint's staff thread              |
| remind   | ``Remind``   | the owner, before a promised time         |
| document | ``Document`` | the managers' chat (the monthly review)   |
| mention  | ``MentionCard`` | the staff chat: the mentions lane's card |
| amend    | ``Amend``    | our published reply: a new text, or withdrawn |
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable


class OutboxKind(StrEnum):
    ALERT = "alert"
    PUBLISH = "publish"
    SAY = "say"
    RELAY = "relay"
    REMIND = "remind"
    DOCUMENT = "document"
    MENTION = "mention"
    AMEND = "amend"


@dataclass(frozen=True, slots=True)
class Alert:
    """A manager alert: ``reason`` names it (legal_threat, manager_request, deadline_missed,
    spike, fix_failed, …); the rest is what its text needs."""

    kind: ClassVar[OutboxKind] = OutboxKind.ALERT
    reason: str
    due: str | None = None  # deadline_missed: the first-response time, ISO 8601
    count: int | None = None  # spike: complaints in the window
    window_seconds: int | None = None
    cause: str | None = None  # fix_failed: the cause that came back, and the action that did not hold
    action: str | None = None
    action_id: int | None = None


@dataclass(frozen=True, slots=True)
class Publish:
    """A public reply (or the follow-up under it) for the complaint's publisher."""

    kind: ClassVar[OutboxKind] = OutboxKind.PUBLISH
    publisher: str
    text: str
    origin: Mapping[str, Any] | None = None  # where the post is: what the publisher answers
    url: str | None = None
    draft_id: int | None = None
    reply_to: str | int | None = None  # a follow-up answers our own first reply
    follow_up: bool = False


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()  # rows of (label, value)


@dataclass(frozen=True, slots=True)
class Say:
    """Messages to a customer, sent in order; ``sent`` counts those out (a retry goes on after)."""

    kind: ClassVar[OutboxKind] = OutboxKind.SAY
    chat_id: int
    messages: tuple[Message, ...]
    sent: int = 0


@dataclass(frozen=True, slots=True)
class Relay:
    """A customer's message for the staff thread (a photo or file is copied by its id)."""

    kind: ClassVar[OutboxKind] = OutboxKind.RELAY
    text: str
    name: str = ""
    chat_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Remind:
    kind: ClassVar[OutboxKind] = OutboxKind.REMIND
    due: datetime


@dataclass(frozen=True, slots=True)
class Document:
    kind: ClassVar[OutboxKind] = OutboxKind.DOCUMENT
    month: str  # the monthly review of YYYY-MM


@dataclass(frozen=True, slots=True)
class MentionCard:
    """A compact card in the staff chat for a mention the team should see (not a complaint)."""

    kind: ClassVar[OutboxKind] = OutboxKind.MENTION
    mention_id: int


@dataclass(frozen=True, slots=True)
class Amend:
    """A change to our published reply where the place allows it: its new ``text``, or (None)
    withdrawn. ``reply_id`` is where the publisher put it (a Reddit fullname, "chat:message")."""

    kind: ClassVar[OutboxKind] = OutboxKind.AMEND
    publisher: str
    reply_id: str
    text: str | None = None
    by: str = "reclaim"  # who asked for it (an event log actor) and their name
    name: str = ""

    @property
    def withdraw(self) -> bool:
        return self.text is None


@dataclass(frozen=True, slots=True)
class Erased:
    """What a row says once its customer was forgotten: nothing (it is never sent)."""

    kind: OutboxKind = field(default=OutboxKind.SAY)


Payload = Alert | Publish | Say | Relay | Remind | Document | MentionCard | Amend
PAYLOADS: dict[OutboxKind, type[Payload]] = {
    p.kind: p for p in (Alert, Publish, Say, Relay, Remind, Document, MentionCard, Amend)
}


def to_json(payload: Payload | Erased) -> dict[str, Any]:
    """The payload as the journal keeps it (None fields left out)."""
    if isinstance(payload, Erased):
        return {"erased": True}
    data = {k: v for k, v in asdict(payload).items() if v is not None}
    if isinstance(payload, Remind):
        data["due"] = payload.due.isoformat()
    if isinstance(payload, Say):
        data["messages"] = [{"text": m.text, "buttons": [[list(b) for b in row] for row in m.buttons]}
                            for m in payload.messages]  # fmt: skip
    if isinstance(payload, Publish) and payload.origin is not None:
        data["origin"] = dict(payload.origin)
    return data


def from_json(kind: str, data: Mapping[str, Any]) -> Payload | Erased:
    """A journal row's payload; ValueError for one that makes no sense (it cannot be sent)."""
    known = OutboxKind(kind)
    if data.get("erased"):
        return Erased(known)
    cls = PAYLOADS[known]
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    try:
        if cls is Remind:
            values["due"] = datetime.fromisoformat(str(values["due"]))
        if cls is Say:
            values["messages"] = tuple(_message(m) for m in values.get("messages") or ())
        return cls(**values)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"a {kind} row that cannot be read: {exc}") from exc


def _message(m: Mapping[str, Any]) -> Message:
    rows = tuple(tuple((str(label), str(value)) for label, value in row) for row in m.get("buttons") or ())
    return Message(str(m["text"]), rows)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A row claimed for sending."""

    id: int
    key: str
    kind: OutboxKind
    complaint_id: int | None
    payload: Payload | Erased
    attempts: int


class PublishRetry(Exception):
    """Not posted this time; try again in ``delay`` (an automatic publisher checks first whether
    an earlier attempt got through before it posts again)."""

    def __init__(self, message: str, delay: timedelta) -> None:
        super().__init__(message)
        self.delay = delay


class PublishRefused(Exception):
    """The place will not take the reply (a locked or deleted thread, a ban): a person decides."""


class Publisher(Protocol):
    """Posts a reply in public; returns where (``id``, ``url``) or raises PublishRetry/PublishRefused."""

    def __call__(self, item: OutboxItem) -> Awaitable[dict[str, Any]]: ...


@runtime_checkable
class Amender(Protocol):
    """A publisher that can also edit or withdraw a reply it posted (an Amend row)."""

    def amend(self, item: OutboxItem) -> Awaitable[dict[str, Any]]: ...
