"""The staff inbox's rules, pure: which action is allowed when, and what it changes.

The storage layer loads a complaint, asks :func:`decide`, and writes the returned
:class:`Decision` (new status, owner, events, outbox rows) in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core import lifecycle
from core.lifecycle import Event as E
from core.lifecycle import FollowUp, Part
from core.lifecycle import Status as S

MAX_DRAFT = 3000  # leaves room for the rest of a 4096-character Telegram card


class Action(StrEnum):
    TAKE = "tk"
    TAKE_CONFIRM = "tc"
    EDIT = "ed"
    APPROVE = "ap"
    REJECT = "rj"  # asks for the reason
    REJECT_AS = "rr"  # with a reason
    POSTED = "ps"  # manual publisher: it is posted
    CONFIRM_POSTED = "cp"  # an unconfirmed send did reach the public
    REPOST = "rp"  # an unconfirmed send did not: send again
    CANCEL = "cx"
    OFFER = "of"  # the owner proposes options to the customer (asks for them)
    RESOLVE = "rs"  # the owner says what was done (asks for it)
    SET_TIME = "tm"  # the owner names when the customer will hear back (asks for it)
    SLIP = "sl"  # the owner says why a promised time will slip (asks for it)
    FOLLOW_UP = "fa"  # post the proposed public follow-up
    FOLLOW_UP_EDIT = "fe"  # rewrite it (asks for the text)
    FOLLOW_UP_SKIP = "fs"  # no public follow-up for this one
    FOLLOW_UP_POSTED = "fp"  # manual publisher: the follow-up is posted
    CAUSE = "ca"  # record the root cause (shows the company's causes)
    CAUSE_SET = "cs"  # with the cause's number in review.causes, or "other" (asks for words)
    JUSTIFIED = "cj"  # with 1 or 0: was the customer right?
    RELEASE = "rl"  # the owner frees a private link someone else took: the complaint gets a new one
    REPLY_EDIT = "re"  # a new text for our published reply, where the place allows it (asks for it)
    WITHDRAW = "wd"  # the owner takes our published reply down (asks to confirm)
    WITHDRAW_CONFIRM = "wc"


def _status_sources(event: E) -> frozenset[S]:
    return frozenset(s for s in lifecycle.sources(Part.STATUS, event) if isinstance(s, S))


class RejectReason(StrEnum):
    NOT_A_COMPLAINT = "not_complaint"
    DUPLICATE = "duplicate"
    SPAM = "spam"
    OTHER = "other"


# which statuses each action is offered in (the lifecycle's groups); an action that moves the
# status is allowed exactly where the lifecycle table has its move
ALLOWED: dict[Action, frozenset[S]] = {
    Action.TAKE: frozenset(S),
    Action.TAKE_CONFIRM: frozenset(S),
    Action.EDIT: lifecycle.OPEN,
    Action.APPROVE: lifecycle.OPEN,
    Action.REJECT: lifecycle.OPEN,
    Action.REJECT_AS: lifecycle.OPEN,
    Action.POSTED: _status_sources(E.POSTED),
    Action.CONFIRM_POSTED: _status_sources(E.CONFIRMED),
    Action.REPOST: _status_sources(E.REPOSTED),
    Action.CANCEL: frozenset(S),
    Action.OFFER: lifecycle.ANSWERING,
    Action.RESOLVE: lifecycle.ANSWERING,
    Action.SET_TIME: lifecycle.ANSWERING,
    Action.SLIP: lifecycle.ANSWERING,
    Action.FOLLOW_UP: frozenset({S.CLOSED}),
    Action.FOLLOW_UP_EDIT: frozenset({S.CLOSED}),
    Action.FOLLOW_UP_SKIP: frozenset({S.CLOSED}),
    Action.FOLLOW_UP_POSTED: frozenset({S.CLOSED}),
    Action.CAUSE: lifecycle.ANSWERED,
    Action.CAUSE_SET: lifecycle.ANSWERED,
    Action.JUSTIFIED: lifecycle.ANSWERED,
    Action.RELEASE: lifecycle.RELEASABLE,
    Action.REPLY_EDIT: frozenset({S.PUBLISHED, S.CLOSED}),
    Action.WITHDRAW: _status_sources(E.UNPUBLISHED),
    Action.WITHDRAW_CONFIRM: _status_sources(E.UNPUBLISHED),
}
# the follow-up's button and the lifecycle event it stands for
FOLLOW_UP_EVENTS: dict[Action, E] = {
    Action.FOLLOW_UP: E.APPROVED,
    Action.FOLLOW_UP_EDIT: E.EDITED,
    Action.FOLLOW_UP_SKIP: E.SKIPPED,
    Action.FOLLOW_UP_POSTED: E.POSTED,
}


@dataclass(frozen=True, slots=True)
class Staff:
    id: int
    name: str

    @property
    def actor(self) -> str:
        """Who did it, in the event log: a Telegram user, (negative ids) a dashboard login, or (0)
        someone at the command line."""
        return f"tg:{self.id}" if self.id > 0 else f"web:{-self.id}" if self.id else "cli"


STAFF_PREFIXES = ("tg:", "web:")  # and "cli": the actors a Staff can be (customers are "customer:…")


def is_staff(actor: str) -> bool:
    """Whether an event's actor is someone on the team (not the service, the policy or a customer)."""
    return actor.startswith(STAFF_PREFIXES) or actor == "cli"


@dataclass(frozen=True, slots=True)
class State:
    """What the rules need to know of a complaint."""

    status: S
    owner_id: int | None
    owner_name: str | None = None
    publisher: str = "manual"
    follow_up: FollowUp | None = None
    bound: bool = False  # someone opened the private link
    amendable: bool = False  # our public reply is out where its publisher can edit or delete it


@dataclass(slots=True)
class Decision:
    """The outcome of one staff action. ``notice`` is a key of the staff texts."""

    notice: str
    changed: bool = False
    event: E | None = None  # what moves the complaint's status (core.lifecycle)
    owner: Staff | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    publish: bool = False  # queue the public reply in the outbox
    ask: str | None = None  # "confirm_take", "reject_reason", "edit_text", "reject_text": the bot asks
    reject_reason: str | None = None
    follow_up: E | None = None  # what moves the follow-up (core.lifecycle)
    publish_follow_up: bool = False  # queue the public follow-up in the outbox
    cause: str | None = None  # the root cause to record
    justified: bool | None = None
    release_link: bool = False  # unbind whoever opened the link and give the complaint a new one
    withdraw: bool = False  # queue taking our public reply down

    @property
    def status(self) -> S | None:
        """The status this decision leads to (from the lifecycle table), if it moves it."""
        row = lifecycle.move(Part.STATUS, self.event) if self.event else None
        return row.target if row is not None and isinstance(row.target, S) else None


Rule = Callable[[State, Staff, str | None], Decision]

# actions that only ask the presser for something: the prompt each shows
_ASKS: dict[Action, tuple[str, str]] = {
    Action.CAUSE: ("cause_choose", "cause"),
    Action.EDIT: ("edit_prompted", "edit_text"),
    Action.OFFER: ("edit_prompted", "options_text"),
    Action.RESOLVE: ("edit_prompted", "resolved_text"),
    Action.SET_TIME: ("edit_prompted", "time_text"),
    Action.SLIP: ("edit_prompted", "slip_text"),
    Action.REJECT: ("reject_choose", "reject_reason"),
}


def decide(state: State, action: Action, who: Staff, arg: str | None = None) -> Decision:
    """Apply one staff action to a complaint's state (no I/O)."""
    if state.status not in ALLOWED[action]:
        return Decision(notice=f"not_now_{state.status.value}")
    if action in _ASKS:
        notice, ask = _ASKS[action]
        return Decision(notice=notice, ask=ask)
    if action in FOLLOW_UP_EVENTS:
        return _follow_up(state, action, who)
    return _RULES[action](state, who, arg)


def _by(who: Staff, **data: Any) -> dict[str, Any]:
    return {"by": who.id, "name": who.name, **data}


def _approve(state: State, who: Staff, arg: str | None) -> Decision:
    d = Decision(notice="approved", changed=True, event=E.APPROVED, publish=True)
    d.events.append(("approved", _by(who)))
    if state.owner_id is None:
        d.owner = who
        d.events.append(("owner_set", {"owner": who.id, "name": who.name, "previous": None}))
    return d


def _posted(event: E) -> Rule:
    def rule(state: State, who: Staff, arg: str | None) -> Decision:
        d = Decision(notice="published", changed=True, event=event)
        d.events.append(("published", _by(who, publisher=state.publisher)))
        return d

    return rule


def _repost(state: State, who: Staff, arg: str | None) -> Decision:
    d = Decision(notice="reposting", changed=True, event=E.REPOSTED, publish=True)
    d.events.append(("repost_requested", _by(who)))
    return d


def _cause_set(state: State, who: Staff, arg: str | None) -> Decision:
    cause = (arg or "").strip()
    if not cause:
        return Decision(notice="cause_choose", ask="cause")
    if cause == "other":
        return Decision(notice="edit_prompted", ask="cause_text")
    return Decision(notice="cause_saved", changed=True, cause=cause, ask="justified")


def _justified(state: State, who: Staff, arg: str | None) -> Decision:
    if arg not in ("1", "0"):
        return Decision(notice="cause_saved", ask="justified")
    d = Decision(notice="justified_saved", changed=True, justified=arg == "1")
    d.events.append(("justified_recorded", _by(who, justified=arg == "1")))
    return d


def _release(state: State, who: Staff, arg: str | None) -> Decision:
    """Only the complaint's owner frees its private link, and only once someone has opened it."""
    if state.owner_id != who.id:
        return Decision(notice="release_owner_only")
    if not state.bound:
        return Decision(notice="release_not_bound")
    d = Decision(notice="link_released", changed=True, release_link=True)
    d.events.append(("link_released", _by(who)))
    return d


def _reply_edit(state: State, who: Staff, arg: str | None) -> Decision:
    if not state.amendable:
        return Decision(notice="amend_not_possible")
    return Decision(notice="edit_prompted", ask="reply_edit_text")


def _withdraw(state: State, who: Staff, *, confirmed: bool) -> Decision:
    """Only the owner takes our public reply down, and only before the customer is in the
    private chat (the link they followed is in that reply)."""
    if not state.amendable:
        return Decision(notice="amend_not_possible")
    if state.owner_id != who.id:
        return Decision(notice="withdraw_owner_only")
    if state.bound:
        return Decision(notice="withdraw_bound")
    if not confirmed:
        return Decision(notice="confirm_withdraw", ask="confirm_withdraw")
    d = Decision(notice="withdrawing", changed=True, withdraw=True)
    d.events.append(("withdraw_requested", _by(who)))
    return d


def _follow_up(state: State, action: Action, who: Staff) -> Decision:
    event = FOLLOW_UP_EVENTS[action]
    if not lifecycle.allows(Part.FOLLOW_UP, state.follow_up, event):
        return Decision(notice="follow_up_not_now")
    if action is Action.FOLLOW_UP_EDIT:
        return Decision(notice="edit_prompted", ask="follow_up_text")
    if action is Action.FOLLOW_UP_SKIP:
        d = Decision(notice="follow_up_skipped", changed=True, follow_up=event)
        d.events.append(("follow_up_skipped", _by(who)))
        return d
    if action is Action.FOLLOW_UP_POSTED:
        d = Decision(notice="published", changed=True, follow_up=event)
        d.events.append(("follow_up_published", _by(who, publisher=state.publisher)))
        return d
    d = Decision(notice="approved", changed=True, follow_up=event, publish_follow_up=True)
    d.events.append(("follow_up_approved", _by(who)))
    return d


def _take(state: State, who: Staff, *, confirmed: bool) -> Decision:
    if state.owner_id == who.id:
        return Decision(notice="already_yours")
    if state.owner_id is not None and not confirmed:
        return Decision(notice="confirm_take", ask="confirm_take")
    d = Decision(notice="taken", changed=True, owner=who)
    kind = "owner_changed" if state.owner_id is not None else "owner_set"
    d.events.append((kind, {"owner": who.id, "name": who.name, "previous": state.owner_id}))
    return d


def _reject(state: State, who: Staff, arg: str | None) -> Decision:
    reason = (arg or "").strip()
    code, _, text = reason.partition(":")
    if code not in RejectReason.__members__.values():
        return Decision(notice="reject_choose", ask="reject_reason")
    if code == RejectReason.OTHER and not text.strip():
        return Decision(notice="reject_explain", ask="reject_text")
    d = Decision(notice="rejected", changed=True, event=E.REJECTED, reject_reason=reason)
    d.events.append(("rejected", _by(who, reason=code, note=text.strip() or None)))
    return d


_RULES: dict[Action, Rule] = {
    Action.TAKE: lambda state, who, arg: _take(state, who, confirmed=False),
    Action.TAKE_CONFIRM: lambda state, who, arg: _take(state, who, confirmed=True),
    Action.CANCEL: lambda state, who, arg: Decision(notice="cancelled", changed=True),
    Action.REPLY_EDIT: _reply_edit,
    Action.WITHDRAW: lambda state, who, arg: _withdraw(state, who, confirmed=False),
    Action.WITHDRAW_CONFIRM: lambda state, who, arg: _withdraw(state, who, confirmed=True),
    Action.REJECT_AS: _reject,
    Action.APPROVE: _approve,
    Action.POSTED: _posted(E.POSTED),
    Action.CONFIRM_POSTED: _posted(E.CONFIRMED),
    Action.REPOST: _repost,
    Action.CAUSE_SET: _cause_set,
    Action.JUSTIFIED: _justified,
    Action.RELEASE: _release,
}


def check_draft(text: str) -> str | None:
    """Why an edited draft cannot be used, as a staff-text key; None when it can."""
    if not text.strip():
        return "edit_empty"
    if len(text) > MAX_DRAFT:
        return "edit_too_long"
    return None
