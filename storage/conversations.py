"""The private conversation over SQLAlchemy: binding a customer by the link's token, applying
the pure machine (responders.conversation) to each message, button and staff step, and writing
its effects — new state, events, messages to send, relays to the staff chat, alerts and
promises — in the same transaction. The dispatcher sends what was queued, so a restart between
any two steps continues where it was and loses or repeats nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.inbox import Customer, Staff
from core.ingest import ComplaintPlan, IngestPlan, MentionPlan, new_token
from core.lifecycle import Event as E
from core.lifecycle import Status, status_after
from core.model import Kind, RawMention, Triage
from responders.conversation import (
    Context,
    Conversation,
    CustomerText,
    Event,
    OptionsProposed,
    Outcome,
    PromiseMissed,
    PromiseSet,
    Resolved,
    Started,
    Step,
    Texts,
    button_event,
    open_conversation,
    status,
    step,
)
from storage.inbox import add_outbox, bump_card, first_time
from storage.journal import record_plan
from storage.privacy import forget_customer, was_erased
from storage.tables import Complaint, ConversationRow, Draft, Mention, Promise
from storage.tables import Event as EventRow

Clock = Callable[[], datetime]
OPEN_STEPS = tuple(s.value for s in Step if s is not Step.CLOSED)
CLOSED_STAYS = timedelta(days=7)
DEFAULT_PRESETS = {
    "delivery": ["resend", "refund", "voucher"],
    "quality": ["replacement", "repair", "refund", "voucher"],
    "refund": ["refund", "voucher"],
    "default": ["replacement", "refund", "repair", "voucher"],
}


def _answered_in_public(session: Session, complaint_id: int) -> bool:
    """Whether our public reply was posted (a follow-up needs a public thread to go to)."""
    found = select(EventRow.id).where(EventRow.complaint_id == complaint_id, EventRow.kind == "published").limit(1)
    return session.scalar(found) is not None


def actor(who: Customer) -> str:
    return f"customer:tg:{who.user_id}"


@dataclass(frozen=True)
class Replied:
    """What happened to a customer's update: ``status`` for the bot's own short answers."""

    status: str  # bound, again, taken, unknown, applied, ignored, duplicate, none
    complaint_id: int | None = None


def _queue(session: Session, kind: str, complaint_id: int, payload: dict[str, Any], now: datetime) -> None:
    """One outgoing item of the conversation; every one is new (updates are deduplicated before)."""
    add_outbox(
        session,
        key=f"{kind}:{complaint_id}:{uuid.uuid4().hex}",
        kind=kind,
        complaint_id=complaint_id,
        payload=payload,
        now=now,
    )


FollowUp = Callable[[str, str, str | None], str | None]  # (language, token, author) → the follow-up's text


class SqlConversations:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        texts_for: Callable[[str], Texts],
        zone: ZoneInfo,
        *,
        questions: Mapping[str, Sequence[str]] | None = None,
        default_promise: timedelta = timedelta(hours=4),
        manager_within: timedelta = timedelta(hours=2),
        extension: timedelta | None = None,
        presets: Mapping[str, Sequence[str]] | None = None,
        remind_before: timedelta = timedelta(minutes=15),
        clock: Clock = lambda: datetime.now(UTC),
        follow_up: FollowUp | None = None,
        follow_up_from: int = 4,
    ) -> None:
        self.sessions, self.texts_for, self.zone = sessions, texts_for, zone
        self.questions, self.default_promise, self.manager_within = questions, default_promise, manager_within
        self.clock = clock
        self.extension = extension or default_promise
        self.preset_keys = presets or DEFAULT_PRESETS
        self.remind_before = remind_before
        self.follow_up, self.follow_up_from = follow_up, follow_up_from

    # -- the customer's side -----------------------------------------------------------------

    def bind(self, token: str, who: Customer, update_id: int | None) -> Replied:
        """``/start <token>``: the first person to use a token owns its conversation."""
        now = self.clock()
        with self.sessions.begin() as session:
            if not first_time(session, update_id, now):
                return Replied("duplicate")
            c = session.scalars(select(Complaint).where(Complaint.token == token).with_for_update()).first()
            if c is None or c.status == Status.REJECTED.value:
                return Replied("unknown")
            row = session.get(ConversationRow, c.id)
            if row is not None and row.customer_id is not None and row.customer_id != who.user_id:
                session.add(EventRow(complaint_id=c.id, at=now, kind="link_refused", actor=actor(who), data={}))
                return Replied("taken")
            again = row is not None and row.customer_id == who.user_id
            if row is None:
                mention = session.get(Mention, c.mention_id) if c.mention_id else None
                post = " ".join(p for p in ((mention.title or "", mention.text) if mention else ()) if p)
                conv = open_conversation(c.language, c.category, post, self.questions)
                row = ConversationRow(complaint_id=c.id, state=conv.to_json(), step=conv.step.value, updated_at=now)
                session.add(row)
            if not again:
                row.customer_id, row.chat_id, row.customer_name, row.bound_at = who.user_id, who.chat_id, who.name, now
                row.customer_username = who.username
                session.add(EventRow(complaint_id=c.id, at=now, kind="customer_bound", actor=actor(who), data={}))
            self._apply(session, c, row, Started(), actor(who), now)
            return Replied("again" if again else "bound", c.id)

    def _active(self, session: Session, user_id: int) -> tuple[Complaint, ConversationRow] | None:
        # an open conversation, or one closed in the last week (a comment after the rating
        # belongs to it and goes to the staff thread, it does not open a new complaint)
        recent = self.clock() - CLOSED_STAYS
        row = session.scalars(
            select(ConversationRow)
            .where(
                ConversationRow.customer_id == user_id,
                ConversationRow.step.in_(OPEN_STEPS)
                | ((ConversationRow.step == Step.CLOSED.value) & (ConversationRow.updated_at > recent)),
            )
            .order_by(ConversationRow.step == Step.CLOSED.value, ConversationRow.updated_at.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        c = session.scalars(select(Complaint).where(Complaint.id == row.complaint_id).with_for_update()).first()
        return (c, row) if c is not None else None

    def customer_text(self, who: Customer, event: CustomerText, update_id: int | None) -> Replied:
        now = self.clock()
        with self.sessions.begin() as session:
            found = self._active(session, who.user_id)
            if found is None:  # the update stays unrecorded: opening a complaint will use it
                return Replied("none")
            if not first_time(session, update_id, now):
                return Replied("duplicate")
            c, row = found
            self._apply(session, c, row, event, actor(who), now)
            return Replied("applied", c.id)

    def open_private(self, who: Customer, event: CustomerText, triage: Triage, update_id: int | None) -> Replied:
        """Someone writes to the bot with no link and no open complaint: their message opens a
        complaint (source ``telegram_private``) with the same steps and the same staff card."""
        now = self.clock()
        with self.sessions.begin() as session:
            if not first_time(session, update_id, now):
                return Replied("duplicate")
            if self._active(session, who.user_id) is not None:  # a second message raced the first
                return Replied("busy")
            raw = RawMention(
                external_id=f"{who.user_id}:{update_id or uuid.uuid4().hex}",
                text=event.text,
                author=who.name,
                origin={"chat_id": who.chat_id, "user_id": who.user_id},
            )
            plan = IngestPlan(source="telegram_private", fetched_at=now, publisher="none")
            complaint = ComplaintPlan(new_token(), status_after(None, E.OPENED_PRIVATELY), now, "")
            plan.mentions.append(MentionPlan(raw, replace(triage, kind=Kind.COMPLAINT), complaint))
            record_plan(session, plan)
            c = session.scalars(select(Complaint).where(Complaint.token == complaint.token)).one()
            c.first_response_at = now  # the bot answers at once, in private
            conv = open_conversation(c.language, c.category, event.text, self.questions)
            row = ConversationRow(
                complaint_id=c.id,
                customer_id=who.user_id,
                chat_id=who.chat_id,
                customer_name=who.name,
                customer_username=who.username,
                bound_at=now,
                state=conv.to_json(),
                step=conv.step.value,
                updated_at=now,
            )
            session.add(row)
            session.add(EventRow(complaint_id=c.id, at=now, kind="customer_bound", actor=actor(who), data={}))
            self._apply(session, c, row, Started(), actor(who), now)
            if event.insult:
                self._apply(session, c, row, event, actor(who), now)
            return Replied("opened", c.id)

    def customer_button(self, who: Customer, complaint_id: int, value: str, update_id: int | None) -> Replied:
        now = self.clock()
        with self.sessions.begin() as session:
            if not first_time(session, update_id, now):
                return Replied("duplicate")
            row = session.get(ConversationRow, complaint_id, with_for_update=True)
            c = session.get(Complaint, complaint_id)
            if row is None or c is None or row.customer_id != who.user_id:
                return Replied("unknown")
            event = button_event(Conversation.from_json(row.state), value)
            if event is None:
                return Replied("ignored", c.id)
            self._apply(session, c, row, event, actor(who), now)
            return Replied("applied", c.id)

    def status_of(self, user_id: int) -> tuple[int, list[str]] | None:
        """What /status tells: the complaint id and the lines to show."""
        with self.sessions() as session:
            found = self._active(session, user_id)
            if found is None:
                return None
            c, row = found
            conv = Conversation.from_json(row.state)
            return c.id, [s.text for s in status(conv, self._context(conv, c, row, self.clock()))]

    def presets(self, complaint_id: int) -> list[str]:
        """The preset solutions for this complaint's category, in the customer's language."""
        with self.sessions() as session:
            c = session.get(Complaint, complaint_id)
            if c is None:
                return []
            texts = self.texts_for(c.language)
            keys = self.preset_keys.get(c.category) or self.preset_keys.get("default") or []
            return [texts.t(f"presets.{k}") for k in keys if texts.has(f"presets.{k}")]

    def forget(self, user_id: int) -> int:
        """/forget: erase this customer's personal data (anonymous statistics stay)."""
        with self.sessions.begin() as session:
            return forget_customer(session, user_id, self.clock())

    # -- the staff's side ---------------------------------------------------------------------

    def staff_step(self, complaint_id: int, event: Event, who: Staff, update_id: int | None) -> Replied:
        """The owner proposes options, sets a time or says what was done."""
        now = self.clock()
        with self.sessions.begin() as session:
            if not first_time(session, update_id, now):
                return Replied("duplicate")
            c = session.scalars(select(Complaint).where(Complaint.id == complaint_id).with_for_update()).first()
            row = session.get(ConversationRow, complaint_id)
            if c is not None and row is not None and row.customer_id is None and was_erased(session, c.id):
                return Replied("forgotten", c.id)
            if c is None or row is None or row.customer_id is None:
                return Replied("none")
            before = row.state
            self._apply(session, c, row, event, who.actor, now)
            if row.state == before:
                return Replied("ignored", c.id)
            if isinstance(event, OptionsProposed | Resolved | PromiseSet):  # the owner came back: kept
                self._keep_promises(session, c.id, now)
            return Replied("applied", c.id)

    def slip_reason(self, complaint_id: int, reason: str, who: Staff, update_id: int | None) -> Replied:
        """The owner's words for the apology if the open promise passes unmet."""
        now = self.clock()
        with self.sessions.begin() as session:
            if not first_time(session, update_id, now):
                return Replied("duplicate")
            done = session.execute(
                update(Promise)
                .where(Promise.complaint_id == complaint_id, Promise.kept_at.is_(None), Promise.missed_at.is_(None))
                .values(slip_reason=reason[:500])
                .returning(Promise.id)
            ).all()
            if not done:
                return Replied("ignored", complaint_id)
            data = {"reason": reason[:500]}
            session.add(EventRow(complaint_id=complaint_id, at=now, kind="slip_reason", actor=who.actor, data=data))
            return Replied("applied", complaint_id)

    def owner_says(self, complaint_id: int, text: str, who: Staff, update_id: int | None) -> Replied:
        """A staff reply to a relayed message goes to the customer as it is."""
        now = self.clock()
        with self.sessions.begin() as session:
            if not first_time(session, update_id, now):
                return Replied("duplicate")
            row = session.get(ConversationRow, complaint_id)
            if row is not None and row.chat_id is None and was_erased(session, complaint_id):
                return Replied("forgotten", complaint_id)  # never delivered: nobody may receive it now
            if row is None or row.chat_id is None:
                return Replied("none")
            _queue(
                session, "say", complaint_id, {"chat_id": row.chat_id, "messages": [{"text": text, "buttons": []}]}, now
            )
            self._keep_promises(session, complaint_id, now)
            data = {"name": who.name}
            session.add(EventRow(complaint_id=complaint_id, at=now, kind="staff_message", actor=who.actor, data=data))
            return Replied("applied", complaint_id)

    def _keep_promises(self, session: Session, complaint_id: int, now: datetime) -> None:
        """The customer heard back from us: every open promise to them is kept."""
        session.execute(
            update(Promise)
            .where(Promise.complaint_id == complaint_id, Promise.kept_at.is_(None), Promise.missed_at.is_(None))
            .values(kept_at=now)
        )

    def check_promises(self) -> int:
        """Remind owners of promises coming due and handle the ones that passed unmet: the
        customer gets an apology with the owner's reason (or a default) and a new time, the
        managers an alert. Each promise is reminded and missed at most once."""
        now = self.clock()
        handled = 0
        with self.sessions.begin() as session:
            due = list(
                session.scalars(
                    select(Promise)
                    .where(Promise.kept_at.is_(None), Promise.missed_at.is_(None), Promise.due <= now)
                    .order_by(Promise.id)
                    .with_for_update(skip_locked=True)
                )
            )
            for p in due:
                p.missed_at = now
                c = session.get(Complaint, p.complaint_id)
                row = session.get(ConversationRow, p.complaint_id)
                if c is None or row is None or row.step in (Step.CLOSED.value, Step.SATISFACTION.value):
                    continue
                session.add(
                    EventRow(complaint_id=c.id, at=now, kind="promise_overdue", actor="reclaim", data={"promise": p.id})
                )
                self._apply(session, c, row, PromiseMissed(p.slip_reason, now + self.extension), "reclaim", now)
                handled += 1
            soon = list(
                session.scalars(
                    select(Promise)
                    .where(
                        Promise.kept_at.is_(None),
                        Promise.missed_at.is_(None),
                        Promise.reminded_at.is_(None),
                        Promise.due <= now + self.remind_before,
                    )
                    .with_for_update(skip_locked=True)
                )
            )
            for p in soon:
                p.reminded_at = now
                add_outbox(
                    session,
                    key=f"remind:{p.id}",
                    kind="remind",
                    complaint_id=p.complaint_id,
                    payload={"due": p.due.isoformat()},
                    now=now,
                )
                handled += 1
        return handled

    # -- the machine ------------------------------------------------------------------------

    def _propose_follow_up(self, session: Session, c: Complaint, now: datetime) -> None:
        """A satisfied customer whose complaint was answered in public: draft the short public
        note on the same thread for the team to approve ("sorted out privately, thank you")."""
        if self.follow_up is None or c.follow_up is not None:  # one follow-up per complaint
            return
        mention = session.get(Mention, c.mention_id) if c.mention_id else None
        text = self.follow_up(c.language, c.token, mention.author if mention else None)
        if text is None:
            return
        draft = Draft(complaint_id=c.id, text=text, status="proposed", author="reclaim", created_at=now)
        draft.purpose = "follow_up"
        session.add(draft)
        c.advance_follow_up(E.PROPOSED, now)
        session.add(EventRow(complaint_id=c.id, at=now, kind="follow_up_proposed", actor="reclaim", data={}))

    def _context(self, conv: Conversation, c: Complaint, row: ConversationRow, now: datetime) -> Context:
        return Context(
            now=now,
            zone=self.zone,
            texts=self.texts_for(conv.language),
            name=row.customer_name,
            owner=c.owner_name,
            default_promise=self.default_promise,
            manager_within=self.manager_within,
        )

    def _apply(
        self, session: Session, c: Complaint, row: ConversationRow, event: Event, actor: str, now: datetime
    ) -> Outcome:
        conv = Conversation.from_json(row.state)
        out = step(conv, event, self._context(conv, c, row, now))
        row.state, row.step, row.updated_at = out.conversation.to_json(), out.conversation.step.value, now
        for kind, data in out.events:
            session.add(EventRow(complaint_id=c.id, at=now, kind=kind, actor=actor, data=data))
        if out.say and row.chat_id is not None:
            messages = [{"text": s.text, "buttons": [list(map(list, r)) for r in s.buttons]} for s in out.say]
            _queue(session, "say", c.id, {"chat_id": row.chat_id, "messages": messages}, now)
        if out.relay is not None:
            relay = {
                "text": out.relay,
                "name": row.customer_name or "",
                "chat_id": row.chat_id,
                "message_id": out.relay_message_id,
            }
            _queue(session, "relay", c.id, relay, now)
        if out.alert is not None:
            _queue(session, "alert", c.id, {"reason": out.alert}, now)
        if out.promise is not None:
            kind = "manager" if out.alert == "manager_request" else "answer"
            session.add(Promise(complaint_id=c.id, kind=kind, due=out.promise, made_at=now))
        if out.reopen:  # back to where it stood before it closed: answered in public, or private only
            public = _answered_in_public(session, c.id)
            if c.advance(E.REOPENED_PUBLIC if public else E.REOPENED_PRIVATE, now):
                session.add(EventRow(complaint_id=c.id, at=now, kind="reopened", actor="reclaim", data={}))
        if out.close:
            was_public = c.publisher != "none" and _answered_in_public(session, c.id)
            if c.advance(E.CLOSED, now):
                session.add(EventRow(complaint_id=c.id, at=now, kind="closed", actor="reclaim", data={}))
                rating = out.conversation.rating
                if was_public and rating is not None and rating >= self.follow_up_from:
                    self._propose_follow_up(session, c, now)
        c.updated_at = now
        bump_card(session, c.id)
        return out


__all__ = ["Customer", "PromiseMissed", "PromiseSet", "Replied", "SqlConversations"]
