"""The private conversation with a customer, pure: a state machine over the playbook's steps.

contact → clarify (one question at a time, skipping what the public post already said) →
summary ("did I understand you correctly?", Yes / Not quite) → solution (the owner proposes
options, the customer chooses) → promise (a concrete local time) → resolution (the owner says
what was done) → satisfaction (1-5; 1-2 reopens and alerts a manager) → closed.

The machine never does I/O: ``step(conversation, event, ctx)`` returns the new conversation and
what to do (messages for the customer, notes for the staff thread, alerts); services/machine.py
writes it. Stored as JSON, so a restart continues where it was (words: conversation_words.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.model import Step
from responders.conversation_words import Texts, when

DEFAULT_QUESTIONS: dict[str, list[str]] = {
    "delivery": ["order", "date", "what"],
    "refund": ["order", "date", "what"],
    "quality": ["order", "what", "photo"],
    "default": ["what", "date", "order"],
}
# What counts as already said in the public post (any language): an order number, a date.
_ORDER = re.compile(r"(?:#|№|\bno\.?\s*|\bnr\.?\s*)\s*(\d[\d-]{3,})|\b(\d{6,})\b", re.IGNORECASE)
# numeric dates only (12.11, 12/11/2026, 2026-11-12): a word after a number is too often not a month
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?\b")


# -- state ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversation:
    """Everything the machine remembers; stored as JSON with the complaint."""

    language: str
    category: str
    step: Step = Step.CONTACT
    questions: tuple[str, ...] = ()  # still to ask, in order
    asking: str | None = None
    answers: dict[str, str] = field(default_factory=dict)
    known: dict[str, str] = field(default_factory=dict)  # from the public post
    corrections: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    chosen: int | None = None
    promise_due: str | None = None  # ISO time told to the customer
    resolution: str | None = None
    rating: int | None = None
    insults: int = 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["step"] = self.step.value
        data["questions"], data["corrections"], data["options"] = (
            list(self.questions),
            list(self.corrections),
            list(self.options),
        )
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Conversation:
        values = dict(data)
        values["step"] = Step(values["step"])
        for key in ("questions", "corrections", "options"):
            values[key] = tuple(values.get(key) or ())
        return cls(**values)


def known_from_post(text: str) -> dict[str, str]:
    """What the public post already tells: an order number, a date, what happened."""
    known: dict[str, str] = {}
    order = _ORDER.search(text)
    if order:
        known["order"] = order.group(1) or order.group(2)
    date = _DATE.search(text)
    if date:
        known["date"] = date.group(0)
    if len(text.split()) >= 12:
        known["what"] = text.strip()
    return known


def open_conversation(
    language: str, category: str, post_text: str, questions: Mapping[str, Sequence[str]] | None = None
) -> Conversation:
    table = questions or DEFAULT_QUESTIONS
    wanted = list(table.get(category) or table.get("default") or DEFAULT_QUESTIONS["default"])
    known = known_from_post(post_text)
    return Conversation(
        language=language, category=category, questions=tuple(q for q in wanted if q not in known), known=known
    )


# -- events and effects ---------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    """The customer opened the private chat (the link's /start)."""


@dataclass(frozen=True)
class CustomerText:
    text: str
    insult: bool = False
    manager: bool = False
    attachment: bool = False
    message_id: int | None = None  # the customer's message, to copy a photo or file to the staff


@dataclass(frozen=True)
class Confirmed:
    yes: bool


@dataclass(frozen=True)
class OptionsProposed:
    options: tuple[str, ...]


@dataclass(frozen=True)
class Chosen:
    index: int


@dataclass(frozen=True)
class PromiseSet:
    due: datetime


@dataclass(frozen=True)
class PromiseMissed:
    reason: str | None
    new_due: datetime


@dataclass(frozen=True)
class Resolved:
    what: str


@dataclass(frozen=True)
class Rated:
    rating: int


Event = Started | CustomerText | Confirmed | OptionsProposed | Chosen | PromiseSet | PromiseMissed | Resolved | Rated


@dataclass(frozen=True)
class Say:
    """A message to the customer; ``buttons`` are (label, value) rows."""

    text: str
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()


@dataclass(frozen=True)
class Context:
    now: datetime
    zone: ZoneInfo
    texts: Texts
    name: str | None = None
    owner: str | None = None
    default_promise: timedelta = timedelta(hours=4)
    manager_within: timedelta = timedelta(hours=2)


@dataclass
class Outcome:
    conversation: Conversation
    say: list[Say] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # for the journal
    relay: str | None = None  # customer text for the staff thread
    relay_message_id: int | None = None  # a photo or file to copy there too
    alert: str | None = None  # manager alert reason
    promise: datetime | None = None  # a deadline told to the customer (to track)
    reopen: bool = False
    close: bool = False


def _ask_next(conv: Conversation, out: Outcome, ctx: Context) -> Conversation:
    if conv.questions:
        key, rest = conv.questions[0], conv.questions[1:]
        out.say.append(Say(ctx.texts.t(f"questions.{key}")))
        return replace(conv, step=Step.CLARIFY, asking=key, questions=rest)
    facts = {**conv.known, **conv.answers}
    lines = [
        ctx.texts.t("summary.line", label=ctx.texts.t(f"labels.{k}"), value=_short(v))
        for k, v in facts.items()
        if ctx.texts.has(f"labels.{k}")
    ]
    fixed = ctx.texts.t("labels.correction")
    lines += [ctx.texts.t("summary.line", label=fixed, value=_short(c)) for c in conv.corrections]
    yes, no = ctx.texts.t("buttons.yes"), ctx.texts.t("buttons.not_quite")
    buttons = (((yes, "summary:yes"), (no, "summary:no")),)
    out.say.append(Say(ctx.texts.t("summary.ask", facts="\n".join(lines)), buttons))
    out.events.append(("summary_shown", {"facts": facts, "corrections": list(conv.corrections)}))
    return replace(conv, step=Step.SUMMARY, asking=None)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def step(conv: Conversation, event: Event, ctx: Context) -> Outcome:
    """Apply one event; never raises for an event that does not fit the step (it is ignored
    or answered politely)."""
    out = Outcome(conv)
    if isinstance(event, CustomerText):
        return _on_text(conv, event, ctx, out)
    handler = _HANDLERS.get(type(event))
    if handler is not None:
        handler(conv, event, ctx, out)
    return out


def _on_started(conv: Conversation, event: Started, ctx: Context, out: Outcome) -> None:
    t = ctx.texts
    if conv.step is Step.CONTACT:
        out.say.append(Say(t.t("contact.named", name=ctx.name) if ctx.name else t.t("contact.anonymous")))
        out.events.append(("conversation_started", {}))
        out.conversation = _ask_next(conv, out, ctx)
    else:
        out.say.append(Say(t.t("contact.again")))
        out.say.extend(_status(conv, ctx))


def _on_confirmed(conv: Conversation, event: Confirmed, ctx: Context, out: Outcome) -> None:
    t = ctx.texts
    if conv.step is not Step.SUMMARY:
        return
    if event.yes:
        out.events.append(("summary_confirmed", {}))
        out.say.append(Say(t.t("solution.wait", owner=ctx.owner or t.t("solution.team"))))
        out.conversation = replace(conv, step=Step.SOLUTION)
    else:
        out.events.append(("summary_rejected", {}))
        out.say.append(Say(t.t("summary.correct")))
        out.conversation = replace(conv, step=Step.CLARIFY, asking="correction")


def _on_options(conv: Conversation, event: OptionsProposed, ctx: Context, out: Outcome) -> None:
    if not event.options or conv.step not in (Step.SOLUTION, Step.CHOOSING):
        return
    rows = tuple(((f"{i + 1}. {_short(o, 60)}", f"choosing:{i}"),) for i, o in enumerate(event.options))
    listing = "\n".join(f"{i + 1}. {o}" for i, o in enumerate(event.options))
    out.say.append(Say(ctx.texts.t("solution.offer", options=listing), rows))
    out.events.append(("options_proposed", {"options": list(event.options)}))
    out.conversation = replace(conv, step=Step.CHOOSING, options=event.options, chosen=None)


def _on_chosen(conv: Conversation, event: Chosen, ctx: Context, out: Outcome) -> None:
    if conv.step is not Step.CHOOSING or not 0 <= event.index < len(conv.options):
        return
    t, option, due = ctx.texts, conv.options[event.index], ctx.now + ctx.default_promise
    out.say.append(Say(t.t("solution.chosen", option=option)))
    out.say.append(Say(t.t("promise.told", when=when(due, ctx.now, ctx.zone, t))))
    out.events.append(("option_chosen", {"index": event.index, "option": option}))
    out.events.append(("promise_made", {"due": due.isoformat()}))
    out.promise = due
    out.conversation = replace(conv, step=Step.PROMISE, chosen=event.index, promise_due=due.isoformat())


def _on_promise_set(conv: Conversation, event: PromiseSet, ctx: Context, out: Outcome) -> None:
    if conv.step not in (Step.CHOOSING, Step.PROMISE, Step.SOLUTION):
        return
    out.say.append(Say(ctx.texts.t("promise.told", when=when(event.due, ctx.now, ctx.zone, ctx.texts))))
    out.events.append(("promise_made", {"due": event.due.isoformat()}))
    out.promise = event.due
    out.conversation = replace(conv, promise_due=event.due.isoformat())


def _on_promise_missed(conv: Conversation, event: PromiseMissed, ctx: Context, out: Outcome) -> None:
    if conv.step in (Step.CLOSED, Step.SATISFACTION):
        return
    t = ctx.texts
    reason = event.reason or t.t("promise.default_reason")
    out.say.append(Say(t.t("promise.missed", reason=reason, when=when(event.new_due, ctx.now, ctx.zone, t))))
    out.events.append(("promise_missed", {"reason": reason, "new_due": event.new_due.isoformat()}))
    out.alert = "promise_missed"
    out.promise = event.new_due
    out.conversation = replace(conv, promise_due=event.new_due.isoformat())


def _on_resolved(conv: Conversation, event: Resolved, ctx: Context, out: Outcome) -> None:
    if conv.step in (Step.CLOSED, Step.SATISFACTION):
        return
    t = ctx.texts
    out.say.append(Say(t.t("resolution.done", what=event.what)))
    out.say.append(Say(t.t("satisfaction.ask"), (tuple((str(n), f"satisfaction:{n}") for n in range(1, 6)),)))
    out.events.append(("resolved", {"what": event.what}))
    out.conversation = replace(conv, step=Step.SATISFACTION, resolution=event.what)


def _on_rated(conv: Conversation, event: Rated, ctx: Context, out: Outcome) -> None:
    if conv.step is not Step.SATISFACTION or not 1 <= event.rating <= 5:
        return
    out.events.append(("rated", {"rating": event.rating}))
    if event.rating <= 2:  # not satisfied: back to finding a solution, and a manager hears of it
        out.say.append(Say(ctx.texts.t("satisfaction.low")))
        out.alert, out.reopen = "low_rating", True
        out.conversation = replace(conv, step=Step.SOLUTION, rating=event.rating)
    else:
        out.say.append(Say(ctx.texts.t("satisfaction.thanks")))
        out.close = True
        out.conversation = replace(conv, step=Step.CLOSED, rating=event.rating)


_HANDLERS: dict[type, Callable[[Conversation, Any, Context, Outcome], None]] = {
    Started: _on_started,
    Confirmed: _on_confirmed,
    OptionsProposed: _on_options,
    Chosen: _on_chosen,
    PromiseSet: _on_promise_set,
    PromiseMissed: _on_promise_missed,
    Resolved: _on_resolved,
    Rated: _on_rated,
}


def button_event(conv: Conversation, value: str) -> Event | None:
    """The event a customer's button stands for, or None when the button belongs to a step the
    conversation has left (an old message pressed late)."""
    name, _, arg = value.partition(":")
    if name != conv.step.value:
        return None
    if conv.step is Step.SUMMARY and arg in ("yes", "no"):
        return Confirmed(arg == "yes")
    if conv.step is Step.CHOOSING and arg.isdigit():
        return Chosen(int(arg))
    if conv.step is Step.SATISFACTION and arg.isdigit():
        return Rated(int(arg))
    return None


def _on_text(conv: Conversation, event: CustomerText, ctx: Context, out: Outcome) -> Outcome:
    t = ctx.texts
    if conv.step is Step.SATISFACTION and event.text.strip() in ("1", "2", "3", "4", "5"):
        return step(conv, Rated(int(event.text.strip())), ctx)  # a rating typed instead of pressed
    if conv.step in (Step.SATISFACTION, Step.CLOSED) and not event.manager:
        out.events.append(("comment", {"after_rating": conv.rating}))
    out.relay, out.relay_message_id = event.text, event.message_id
    if event.insult:
        conv = replace(conv, insults=conv.insults + 1)
        out.events.append(("insult", {"count": conv.insults}))
        out.conversation = conv
    if event.manager:
        out.alert = "manager_request"
        due = ctx.now + ctx.manager_within
        out.say.append(Say(t.t("manager.told", when=when(due, ctx.now, ctx.zone, t))))
        out.events.append(("manager_requested", {"due": due.isoformat()}))
        out.promise = due
        return out
    if conv.step is Step.CLARIFY and conv.asking:
        asking = conv.asking
        if event.insult and not event.attachment and len(event.text.split()) < 4:
            out.say.append(Say(t.t("calm")))  # nothing to keep: ask again, calmly
            out.say.append(Say(t.t(f"questions.{conv.asking}" if conv.asking != "correction" else "summary.correct")))
            return out
        if conv.asking == "correction":
            conv = replace(conv, corrections=(*conv.corrections, event.text))
        else:
            conv = replace(conv, answers={**conv.answers, asking: event.text})
        out.events.append(("answered", {"question": asking}))
        if event.insult:
            out.say.append(Say(t.t("calm")))
        out.conversation = _ask_next(conv, out, ctx)
        return out
    if event.insult:
        out.say.append(Say(t.t("calm")))
    elif conv.step is Step.CONTACT:
        out.conversation = _ask_next(conv, out, ctx)
    else:
        out.say.append(Say(t.t("relayed", owner=ctx.owner or t.t("solution.team"))))
    return out


def _status(conv: Conversation, ctx: Context) -> list[Say]:
    t = ctx.texts
    text = t.t(f"status.{conv.step.value}")
    if conv.promise_due and conv.step is Step.PROMISE:
        due = datetime.fromisoformat(conv.promise_due)
        text += " " + t.t("promise.told", when=when(due, ctx.now, ctx.zone, t))
    return [Say(text)]


def status(conv: Conversation, ctx: Context) -> list[Say]:
    """What /status tells the customer."""
    return _status(conv, ctx)
