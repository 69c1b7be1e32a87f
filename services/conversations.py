"""The private conversation's use cases: binding a customer by the link's token, each message,
button and staff step run through the machine (services/machine.py), /status, /forget, the
owner's words to the customer. Each is one transaction: the dispatcher sends what was queued,
so a restart between any two steps continues where it was and loses or repeats nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from core.inbox import Staff
from core.ingest import ComplaintPlan, IngestPlan, MentionPlan, new_token
from core.lifecycle import Event as E
from core.lifecycle import Status, status_after
from core.model import Kind, RawMention, Triage
from core.outbox import Message, Say
from core.ports import Customer
from responders.conversation import (
    Conversation,
    CustomerText,
    Event,
    OptionsProposed,
    PromiseSet,
    Resolved,
    Started,
    button_event,
    open_conversation,
    status,
)
from services.machine import Playbook, keep_promises, queue, run
from storage.tables import Complaint, ConversationRow
from storage.uow import UnitOfWork

CLOSED_STAYS = timedelta(days=7)  # a message this long after the rating still belongs to the conversation


@dataclass(frozen=True)
class Replied:
    """What happened to a customer's update: ``status`` for the bot's own short answers."""

    status: str  # bound, again, taken, unknown, applied, ignored, duplicate, none, busy, opened, forgotten
    complaint_id: int | None = None


def actor(who: Customer) -> str:
    return f"customer:tg:{who.user_id}"


class PrivateConversations:
    """The conversation's use cases over a unit of work (implements bot.customer's store)."""

    def __init__(
        self, uow: Callable[[], UnitOfWork], book: Playbook, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.uow, self.book, self.clock = uow, book, clock  # uow: a new unit of work per use case

    # -- the customer's side -----------------------------------------------------------------

    def bind(self, token: str, who: Customer, update_id: int | None) -> Replied:
        """``/start <token>``: the first person to use a token owns its conversation."""
        now = self.clock()
        with self.uow() as uow:
            if not uow.updates.first_time(update_id, now):
                return Replied("duplicate")
            c = uow.complaints.by_token(token, lock=True)
            if c is None or c.status == Status.REJECTED.value:
                return Replied("unknown")
            row = uow.conversations.get(c.id)
            if row is not None and row.customer_id is not None and row.customer_id != who.user_id:
                uow.events.add(c.id, "link_refused", actor(who), {}, now)
                return Replied("taken")
            again = row is not None and row.customer_id == who.user_id
            if row is None:
                mention = uow.complaints.mention(c.mention_id)
                post = " ".join(p for p in ((mention.title or "", mention.text) if mention else ()) if p)
                conv = open_conversation(c.language, c.category, post, self.book.questions)
                row = ConversationRow(complaint_id=c.id, state=conv.to_json(), step=conv.step.value, updated_at=now)
                uow.conversations.add(row)
            if not again:
                row.customer_id, row.chat_id, row.customer_name, row.bound_at = who.user_id, who.chat_id, who.name, now
                row.customer_username = who.username
                uow.events.add(c.id, "customer_bound", actor(who), {}, now)
            run(uow, self.book, c, row, Started(), actor(who), now)
            return Replied("again" if again else "bound", c.id)

    def _active(self, uow: UnitOfWork, user_id: int) -> tuple[Complaint, ConversationRow] | None:
        """An open conversation, or one closed in the last week (a comment after the rating
        belongs to it and goes to the staff thread, it does not open a new complaint)."""
        row = uow.conversations.active_for(user_id, self.clock() - CLOSED_STAYS)
        c = uow.complaints.get(row.complaint_id, lock=True) if row is not None else None
        return (c, row) if c is not None and row is not None else None

    def customer_text(self, who: Customer, event: CustomerText, update_id: int | None) -> Replied:
        now = self.clock()
        with self.uow() as uow:
            found = self._active(uow, who.user_id)
            if found is None:  # the update stays unrecorded: opening a complaint will use it
                return Replied("none")
            if not uow.updates.first_time(update_id, now):
                return Replied("duplicate")
            c, row = found
            run(uow, self.book, c, row, event, actor(who), now)
            return Replied("applied", c.id)

    def open_private(self, who: Customer, event: CustomerText, triage: Triage, update_id: int | None) -> Replied:
        """Someone writes to the bot with no link and no open complaint: their message opens a
        complaint (source ``telegram_private``) with the same steps and the same staff card."""
        now = self.clock()
        with self.uow() as uow:
            if not uow.updates.first_time(update_id, now):
                return Replied("duplicate")
            if self._active(uow, who.user_id) is not None:  # a second message raced the first
                return Replied("busy")
            raw = RawMention(
                external_id=f"{who.user_id}:{update_id or uuid.uuid4().hex}",
                text=event.text,
                author=who.name,
                origin={"chat_id": who.chat_id, "user_id": who.user_id},
            )
            plan = IngestPlan(source="telegram_private", fetched_at=now, publisher="none")
            opened = ComplaintPlan(new_token(), status_after(None, E.OPENED_PRIVATELY), now, "")
            plan.mentions.append(MentionPlan(raw, replace(triage, kind=Kind.COMPLAINT), opened))
            uow.complaints.record(plan)
            c = uow.complaints.by_token(opened.token)
            assert c is not None
            c.first_response_at = now  # the bot answers at once, in private
            conv = open_conversation(c.language, c.category, event.text, self.book.questions)
            row = ConversationRow(
                complaint_id=c.id, customer_id=who.user_id, chat_id=who.chat_id, customer_name=who.name,
                customer_username=who.username, bound_at=now, state=conv.to_json(), step=conv.step.value,
                updated_at=now,
            )  # fmt: skip
            uow.conversations.add(row)
            uow.events.add(c.id, "customer_bound", actor(who), {}, now)
            run(uow, self.book, c, row, Started(), actor(who), now)
            if event.insult:
                run(uow, self.book, c, row, event, actor(who), now)
            return Replied("opened", c.id)

    def customer_button(self, who: Customer, complaint_id: int, value: str, update_id: int | None) -> Replied:
        now = self.clock()
        with self.uow() as uow:
            if not uow.updates.first_time(update_id, now):
                return Replied("duplicate")
            c = uow.complaints.get(complaint_id, lock=True)  # the complaint first, as every writer does
            row = uow.conversations.get(complaint_id, lock=True)
            if row is None or c is None or row.customer_id != who.user_id:
                return Replied("unknown")
            event = button_event(Conversation.from_json(row.state), value)
            if event is None:
                return Replied("ignored", c.id)
            run(uow, self.book, c, row, event, actor(who), now)
            return Replied("applied", c.id)

    def status_of(self, user_id: int) -> tuple[int, list[str]] | None:
        """What /status tells: the complaint id and the lines to show."""
        with self.uow() as uow:
            found = self._active(uow, user_id)
            if found is None:
                return None
            c, row = found
            conv = Conversation.from_json(row.state)
            return c.id, [s.text for s in status(conv, self.book.context(conv, c, row, self.clock()))]

    def presets(self, complaint_id: int) -> list[str]:
        """The preset solutions for this complaint's category, in the customer's language."""
        with self.uow() as uow:
            c = uow.complaints.get(complaint_id)
            if c is None:
                return []
            texts = self.book.texts_for(c.language)
            keys = self.book.presets.get(c.category) or self.book.presets.get("default") or []
            return [texts.t(f"presets.{k}") for k in keys if texts.has(f"presets.{k}")]

    def forget(self, user_id: int) -> int:
        """/forget: erase this customer's personal data (anonymous statistics stay)."""
        with self.uow() as uow:
            return uow.privacy.forget_customer(user_id, self.clock())

    # -- the staff's side ---------------------------------------------------------------------

    def staff_step(self, complaint_id: int, event: Event, who: Staff, update_id: int | None) -> Replied:
        """The owner proposes options, sets a time or says what was done."""
        now = self.clock()
        with self.uow() as uow:
            if not uow.updates.first_time(update_id, now):
                return Replied("duplicate")
            c = uow.complaints.get(complaint_id, lock=True)
            row = uow.conversations.get(complaint_id)
            if c is not None and row is not None and row.customer_id is None and erased(uow, c.id):
                return Replied("forgotten", c.id)
            if c is None or row is None or row.customer_id is None:
                return Replied("none")
            before = row.state
            run(uow, self.book, c, row, event, who.actor, now)
            if row.state == before:
                return Replied("ignored", c.id)
            if isinstance(event, OptionsProposed | Resolved | PromiseSet):  # the owner came back: kept
                keep_promises(uow, c.id, now)
            return Replied("applied", c.id)

    def slip_reason(self, complaint_id: int, reason: str, who: Staff, update_id: int | None) -> Replied:
        """The owner's words for the apology if the open promise passes unmet."""
        now = self.clock()
        with self.uow() as uow:
            if not uow.updates.first_time(update_id, now):
                return Replied("duplicate")
            open_ = uow.promises.open_for(complaint_id)
            if not open_:
                return Replied("ignored", complaint_id)
            for p in open_:
                p.slip_reason = reason[:500]
            uow.events.add(complaint_id, "slip_reason", who.actor, {"reason": reason[:500]}, now)
            return Replied("applied", complaint_id)

    def owner_says(self, complaint_id: int, text: str, who: Staff, update_id: int | None) -> Replied:
        """A staff reply to a relayed message goes to the customer as it is."""
        now = self.clock()
        with self.uow() as uow:
            if not uow.updates.first_time(update_id, now):
                return Replied("duplicate")
            row = uow.conversations.get(complaint_id)
            if row is not None and row.chat_id is None and erased(uow, complaint_id):
                return Replied("forgotten", complaint_id)  # never delivered: nobody may receive it now
            if row is None or row.chat_id is None:
                return Replied("none")
            queue(uow, Say(row.chat_id, (Message(text),)), complaint_id, now)
            keep_promises(uow, complaint_id, now)
            uow.events.add(complaint_id, "staff_message", who.actor, {"name": who.name}, now)
            return Replied("applied", complaint_id)


def erased(uow: UnitOfWork, complaint_id: int) -> bool:
    """Whether the complaint's personal data was erased (its customer asked to be forgotten)."""
    return uow.events.exists(complaint_id, "personal_data_erased")
