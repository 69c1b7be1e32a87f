"""Running the private conversation's pure machine (responders.conversation) against the
journal: one step's new state, events, messages to send, relays to the staff thread, alerts,
promises, the reopen or close of the complaint, and the public follow-up it may propose, all
written through the unit of work in the step's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.lifecycle import Event as E
from core.outbox import Alert, Message, Payload, Relay, Say
from responders.conversation import Context, Conversation, Event, Outcome, step
from responders.conversation_words import Texts
from storage.tables import Complaint, ConversationRow, Draft, Promise
from storage.uow import UnitOfWork

# (language, token, author) → the public follow-up's text, or None where there are no words for it
FollowUp = Callable[[str, str, str | None], str | None]
DEFAULT_PRESETS = {
    "delivery": ["resend", "refund", "voucher"],
    "quality": ["replacement", "repair", "refund", "voucher"],
    "refund": ["refund", "voucher"],
    "default": ["replacement", "refund", "repair", "voucher"],
}


@dataclass
class Playbook:
    """What the company configured for its private conversations (conversation: in config.yaml)."""

    texts_for: Callable[[str], Texts]
    zone: ZoneInfo
    questions: Mapping[str, Sequence[str]] | None = None
    default_promise: timedelta = timedelta(hours=4)
    manager_within: timedelta = timedelta(hours=2)
    extension: timedelta | None = None  # the new time after a missed promise (default: default_promise)
    presets: Mapping[str, Sequence[str]] = field(default_factory=lambda: dict(DEFAULT_PRESETS))
    remind_before: timedelta = timedelta(minutes=15)
    follow_up: FollowUp | None = None
    follow_up_from: int = 4  # the lowest rating that proposes a public follow-up

    def context(self, conv: Conversation, c: Complaint, row: ConversationRow, now: datetime) -> Context:
        return Context(
            now=now,
            zone=self.zone,
            texts=self.texts_for(conv.language),
            name=row.customer_name,
            owner=c.owner_name,
            default_promise=self.default_promise,
            manager_within=self.manager_within,
        )


def queue(uow: UnitOfWork, payload: Payload, complaint_id: int, now: datetime) -> None:
    """One outgoing item of the conversation; every one is new (updates are deduplicated before)."""
    uow.outbox.add(f"{payload.kind}:{complaint_id}:{uuid.uuid4().hex}", payload, complaint_id, now)


def keep_promises(uow: UnitOfWork, complaint_id: int, now: datetime) -> None:
    """The customer heard back from us: every open promise to them is kept."""
    for p in uow.promises.open_for(complaint_id):
        p.kept_at = now


def run(
    uow: UnitOfWork, book: Playbook, c: Complaint, row: ConversationRow, event: Event, actor: str, now: datetime
) -> Outcome:
    """Apply one event to the conversation and write all that follows from it."""
    conv = Conversation.from_json(row.state)
    out = step(conv, event, book.context(conv, c, row, now))
    row.state, row.step, row.updated_at = out.conversation.to_json(), out.conversation.step.value, now
    for kind, data in out.events:
        uow.events.add(c.id, kind, actor, data, now)
    _messages(uow, c, row, out, now)
    if out.promise is not None:
        kind = "manager" if out.alert == "manager_request" else "answer"
        uow.promises.add(Promise(complaint_id=c.id, kind=kind, due=out.promise, made_at=now))
    if out.reopen:  # back to where it stood before it closed: answered in public, or private only
        public = uow.events.exists(c.id, "published")
        if c.advance(E.REOPENED_PUBLIC if public else E.REOPENED_PRIVATE, now):
            uow.events.add(c.id, "reopened", "reclaim", {}, now)
    if out.close:
        _close(uow, book, c, out, now)
    c.updated_at = now
    uow.cards.bump(c.id)
    return out


def _messages(uow: UnitOfWork, c: Complaint, row: ConversationRow, out: Outcome, now: datetime) -> None:
    """What the step says to the customer, relays to the staff thread, and alerts managers of."""
    if out.say and row.chat_id is not None:
        queue(uow, Say(row.chat_id, tuple(Message(s.text, s.buttons) for s in out.say)), c.id, now)
    if out.relay is not None:
        queue(uow, Relay(out.relay, row.customer_name or "", row.chat_id, out.relay_message_id), c.id, now)
    if out.alert is not None:
        queue(uow, Alert(out.alert), c.id, now)


def _close(uow: UnitOfWork, book: Playbook, c: Complaint, out: Outcome, now: datetime) -> None:
    was_public = c.publisher != "none" and uow.events.exists(c.id, "published")
    if not c.advance(E.CLOSED, now):
        return
    uow.events.add(c.id, "closed", "reclaim", {}, now)
    rating = out.conversation.rating
    if was_public and rating is not None and rating >= book.follow_up_from:
        _propose_follow_up(uow, book, c, now)


def _propose_follow_up(uow: UnitOfWork, book: Playbook, c: Complaint, now: datetime) -> None:
    """A satisfied customer whose complaint was answered in public: draft the short public
    note on the same thread for the team to approve ("sorted out privately, thank you")."""
    if book.follow_up is None or c.follow_up is not None:  # one follow-up per complaint
        return
    mention = uow.complaints.mention(c.mention_id)
    text = book.follow_up(c.language, c.token, mention.author if mention else None)
    if text is None:
        return
    draft = Draft(complaint_id=c.id, text=text, status="proposed", author="reclaim", created_at=now)
    draft.purpose = "follow_up"
    uow.drafts.add(draft)
    c.advance_follow_up(E.PROPOSED, now)
    uow.events.add(c.id, "follow_up_proposed", "reclaim", {}, now)
