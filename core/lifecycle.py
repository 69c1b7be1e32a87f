"""The complaint's lifecycle: every state its status, its public follow-up and its outbox rows
can be in, and the one table of the moves between them.

Every writer (the staff buttons in Telegram and on the dashboard, the private conversation, the
outbox dispatcher, the scheduler, erasure) names an :class:`Event`; :func:`advance` says where it
leads from the current state, or that it does not apply there. ``docs/lifecycle.md`` draws the
same table as Mermaid diagrams, and a test keeps the two alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """Where a complaint stands."""

    NEW = "new"
    DRAFT_READY = "draft_ready"
    APPROVED = "approved"  # publishing is queued in the outbox
    AWAITING_POST = "awaiting_post"  # manual publisher: staff posts by hand, then presses Posted
    PUBLISH_UNCONFIRMED = "publish_unconfirmed"  # a send was cut off; a person checks before any resend
    PUBLISHED = "published"
    PRIVATE = "private"  # opened by the customer in the private chat: no public reply to make
    CLOSED = "closed"  # the private conversation ended with a satisfied customer
    REJECTED = "rejected"


class FollowUp(StrEnum):
    """The short public note after a satisfied customer ("sorted out privately, thank you")."""

    PROPOSED = "proposed"
    QUEUED = "queued"
    AWAITING_POST = "awaiting_post"
    UNCONFIRMED = "unconfirmed"
    REFUSED = "refused"
    POSTED = "posted"
    SKIPPED = "skipped"


class Delivery(StrEnum):
    """An outbox row's state: a message or public reply on its way out."""

    PENDING = "pending"
    SENDING = "sending"
    DONE = "done"
    MANUAL = "manual"  # a person posts it by hand
    REFUSED = "refused"  # the place will not take it
    UNCONFIRMED = "unconfirmed"  # cut off mid-send: a person checks whether it went out
    FAILED = "failed"  # given up; staff retry or drop it
    DROPPED = "dropped"
    CANCELLED = "cancelled"  # its customer was forgotten


# outbox rows that wait for a person (listed by `reclaim outbox list` by default)
NEEDS_PERSON = (Delivery.FAILED.value, Delivery.REFUSED.value, Delivery.UNCONFIRMED.value)


class Part(StrEnum):
    """Which of a complaint's machines an event moves."""

    STATUS = "status"
    FOLLOW_UP = "follow_up"
    DELIVERY = "delivery"


class Event(StrEnum):
    """Something that happened to a complaint, its follow-up or one of its outbox rows."""

    DETECTED = "detected"  # a mention that triage calls a complaint
    OPENED_PRIVATELY = "opened_privately"  # a customer wrote to the bot first
    EDITED = "edited"
    APPROVED = "approved"
    REJECTED = "rejected"
    QUEUED = "queued"  # an automatic publisher will post it
    HANDED_OVER = "handed_over"  # the manual publisher: a person posts it
    CLAIMED = "claimed"  # the dispatcher started sending
    SENT = "sent"
    RETRIED = "retried"  # not sent this time; tried again later
    GAVE_UP = "gave_up"
    REFUSED = "refused"
    CUT_OFF = "cut_off"  # the process stopped mid-send
    POSTED = "posted"  # staff say a person posted it
    CONFIRMED = "confirmed"  # staff say a cut-off send did reach the public
    REPOSTED = "reposted"  # staff say it did not: send again
    REQUEUED = "requeued"  # staff queue a failed or dropped row again
    DROPPED = "dropped"
    PROPOSED = "proposed"  # a satisfied customer: the follow-up is drafted
    SKIPPED = "skipped"
    CLOSED = "closed"  # the customer is satisfied
    REOPENED_PUBLIC = "reopened_public"  # … and then not: back to answered in public
    REOPENED_PRIVATE = "reopened_private"  # … back to answered in private only
    FORGOTTEN = "forgotten"  # the customer asked to be forgotten
    WITHDRAWN = "withdrawn"  # a message for the wrong person (a released link) is not sent
    UNPUBLISHED = "unpublished"  # the owner withdrew our public reply: a draft again


S, F, D, E = Status, FollowUp, Delivery, Event
State = Status | FollowUp | Delivery

# named groups of statuses, for the rules that ask "is it still open?"
OPEN = frozenset({S.NEW, S.DRAFT_READY})  # the public reply is still a draft
ANSWERING = frozenset({S.APPROVED, S.AWAITING_POST, S.PUBLISHED, S.PRIVATE})  # the private steps go on
ANSWERED = ANSWERING | {S.CLOSED}  # a root cause can be recorded
RELEASABLE = frozenset({S.APPROVED, S.AWAITING_POST, S.PUBLISHED, S.PUBLISH_UNCONFIRMED})
FINISHED = frozenset({S.CLOSED, S.REJECTED})
UNANSWERED = frozenset({S.NEW, S.DRAFT_READY, S.APPROVED, S.AWAITING_POST, S.PUBLISH_UNCONFIRMED})  # the SLA runs


@dataclass(frozen=True, slots=True)
class Move:
    """One row of the table: ``event`` moves ``part`` from any of ``sources`` to ``target``
    (a source of None: the part does not exist yet)."""

    part: Part
    event: Event
    sources: frozenset[State | None]
    target: State


def _m(part: Part, event: Event, sources: object, target: State) -> Move:
    return Move(part, event, frozenset(sources), target)  # type: ignore[call-overload]


_ANY_BUT_FINISHED = frozenset(S) - FINISHED
_FOLLOW_UP_RETRYABLE = {F.PROPOSED, F.REFUSED, F.UNCONFIRMED}

TABLE: tuple[Move, ...] = (
    # the complaint's status: the public reply, then the private conversation
    _m(Part.STATUS, E.DETECTED, {None}, S.DRAFT_READY),
    _m(Part.STATUS, E.OPENED_PRIVATELY, {None}, S.PRIVATE),
    _m(Part.STATUS, E.EDITED, OPEN, S.DRAFT_READY),
    _m(Part.STATUS, E.APPROVED, OPEN, S.APPROVED),
    _m(Part.STATUS, E.REJECTED, OPEN, S.REJECTED),
    _m(Part.STATUS, E.HANDED_OVER, {S.APPROVED}, S.AWAITING_POST),
    _m(Part.STATUS, E.SENT, {S.APPROVED}, S.PUBLISHED),
    _m(Part.STATUS, E.REFUSED, {S.APPROVED}, S.AWAITING_POST),
    _m(Part.STATUS, E.CUT_OFF, {S.APPROVED}, S.PUBLISH_UNCONFIRMED),
    _m(Part.STATUS, E.POSTED, {S.AWAITING_POST}, S.PUBLISHED),
    _m(Part.STATUS, E.CONFIRMED, {S.PUBLISH_UNCONFIRMED}, S.PUBLISHED),
    _m(Part.STATUS, E.REPOSTED, {S.PUBLISH_UNCONFIRMED}, S.APPROVED),
    _m(Part.STATUS, E.CLOSED, _ANY_BUT_FINISHED, S.CLOSED),
    _m(Part.STATUS, E.REOPENED_PUBLIC, {S.CLOSED}, S.PUBLISHED),
    _m(Part.STATUS, E.REOPENED_PRIVATE, {S.CLOSED}, S.PRIVATE),
    _m(Part.STATUS, E.FORGOTTEN, _ANY_BUT_FINISHED, S.CLOSED),
    _m(Part.STATUS, E.UNPUBLISHED, {S.PUBLISHED}, S.DRAFT_READY),
    # the public follow-up, once the customer is satisfied
    _m(Part.FOLLOW_UP, E.PROPOSED, {None}, F.PROPOSED),
    _m(Part.FOLLOW_UP, E.EDITED, {F.PROPOSED, F.REFUSED}, F.PROPOSED),
    _m(Part.FOLLOW_UP, E.APPROVED, _FOLLOW_UP_RETRYABLE, F.QUEUED),
    _m(Part.FOLLOW_UP, E.HANDED_OVER, {F.QUEUED}, F.AWAITING_POST),
    _m(Part.FOLLOW_UP, E.SKIPPED, _FOLLOW_UP_RETRYABLE, F.SKIPPED),
    _m(Part.FOLLOW_UP, E.SENT, {F.QUEUED}, F.POSTED),
    _m(Part.FOLLOW_UP, E.REFUSED, {F.QUEUED}, F.REFUSED),
    _m(Part.FOLLOW_UP, E.CUT_OFF, {F.QUEUED}, F.UNCONFIRMED),
    _m(Part.FOLLOW_UP, E.POSTED, {F.AWAITING_POST, F.UNCONFIRMED, F.REFUSED}, F.POSTED),
    # an outbox row (a public reply, a follow-up, a message to a customer, an alert)
    _m(Part.DELIVERY, E.QUEUED, {None, D.REFUSED, D.UNCONFIRMED, D.FAILED}, D.PENDING),
    _m(Part.DELIVERY, E.HANDED_OVER, {None, D.REFUSED, D.UNCONFIRMED, D.FAILED}, D.MANUAL),
    _m(Part.DELIVERY, E.CLAIMED, {D.PENDING}, D.SENDING),
    _m(Part.DELIVERY, E.SENT, {D.SENDING}, D.DONE),
    _m(Part.DELIVERY, E.RETRIED, {D.SENDING}, D.PENDING),
    _m(Part.DELIVERY, E.GAVE_UP, {D.SENDING, D.PENDING}, D.FAILED),
    _m(Part.DELIVERY, E.REFUSED, {D.SENDING}, D.REFUSED),
    _m(Part.DELIVERY, E.CUT_OFF, {D.SENDING}, D.UNCONFIRMED),
    _m(Part.DELIVERY, E.POSTED, {D.MANUAL, D.UNCONFIRMED, D.REFUSED, D.FAILED}, D.DONE),
    _m(Part.DELIVERY, E.REQUEUED, {D.FAILED, D.REFUSED}, D.PENDING),
    _m(Part.DELIVERY, E.DROPPED, {D.FAILED, D.REFUSED}, D.DROPPED),
    _m(Part.DELIVERY, E.FORGOTTEN, {D.PENDING, D.SENDING, D.FAILED, D.MANUAL}, D.CANCELLED),
    _m(Part.DELIVERY, E.WITHDRAWN, {D.PENDING, D.FAILED}, D.CANCELLED),
)

_INDEX: dict[tuple[Part, Event], Move] = {(m.part, m.event): m for m in TABLE}
assert len(_INDEX) == len(TABLE), "one row per part and event"


class NotNow(Exception):
    """An event that does not apply in the part's current state."""


def move(part: Part, event: Event) -> Move | None:
    """The table's row for ``event`` on ``part``, if it has one."""
    return _INDEX.get((part, event))


def allows(part: Part, current: State | None, event: Event) -> bool:
    row = _INDEX.get((part, event))
    return row is not None and current in row.sources


def sources(part: Part, event: Event) -> frozenset[State | None]:
    """The states from which ``event`` moves ``part``."""
    row = _INDEX.get((part, event))
    return row.sources if row is not None else frozenset()


def advance(part: Part, current: State | None, event: Event) -> State:
    """Where ``event`` takes ``part`` from ``current``; NotNow when the table has no such move."""
    row = _INDEX.get((part, event))
    if row is None or current not in row.sources:
        raise NotNow(f"{event.value} does not apply to {part.value} {current or 'none'}")
    return row.target


def status_after(current: Status | None, event: Event) -> Status:
    target = advance(Part.STATUS, current, event)
    assert isinstance(target, Status)
    return target


def follow_up_after(current: FollowUp | None, event: Event) -> FollowUp:
    target = advance(Part.FOLLOW_UP, current, event)
    assert isinstance(target, FollowUp)
    return target


def delivery_after(current: Delivery | None, event: Event) -> Delivery:
    target = advance(Part.DELIVERY, current, event)
    assert isinstance(target, Delivery)
    return target


def mermaid(part: Part) -> str:
    """The part's moves as a Mermaid state diagram (what docs/lifecycle.md shows)."""
    lines = ["stateDiagram-v2"]
    for row in TABLE:
        if row.part is not part:
            continue
        for source in sorted(row.sources, key=lambda s: "" if s is None else s.value):
            lines.append(f"    {'[*]' if source is None else source.value} --> {row.target.value}: {row.event.value}")
    return "\n".join(lines)
