"""The staff inbox over SQLAlchemy: staff actions, prompts, the card queue and the outbox.

Every method is one transaction. A staff action, its events, the card refresh and any
outbox row it causes are committed together, so a crash leaves either all or none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from core import lifecycle
from core.inbox import (
    Action,
    Applied,
    CardView,
    Decision,
    OutboxItem,
    Prompt,
    Staff,
    State,
    check_draft,
    decide,
)
from core.lifecycle import Delivery, FollowUp, Part, Status
from core.lifecycle import Event as E
from core.model import DraftStatus
from core.review import human
from storage import links, outbox
from storage.journal import _insert
from storage.tables import (
    CardQueue,
    Complaint,
    ConversationRow,
    Draft,
    Event,
    Mention,
    Outbox,
    SeenUpdate,
    StaffPrompt,
)

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


# The upserts below run on the session's connection (Core), skipping the ORM's bulk-insert
# machinery, which costs more than the statement itself on the staff-press path.


def bump_card(session: Session, complaint_id: int) -> int:
    """Mark a complaint's staff card as due to be sent or redrawn; returns its new version."""
    stmt = _insert(session, CardQueue).values(complaint_id=complaint_id, version=1, drawn=0)
    stmt = stmt.on_conflict_do_update(index_elements=["complaint_id"], set_={"version": CardQueue.version + 1})
    return int(session.connection().execute(stmt.returning(CardQueue.version)).scalar_one())


def add_outbox(
    session: Session,
    *,
    key: str,
    kind: str,
    complaint_id: int | None,
    payload: dict[str, Any],
    now: datetime,
    status: str = Delivery.PENDING.value,
) -> bool:
    """Queue one outgoing message; False when a row with this key exists (it is sent once)."""
    stmt = (
        _insert(session, Outbox)
        .values(
            key=key,
            kind=kind,
            complaint_id=complaint_id,
            payload=payload,
            status=status,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Outbox.id)
    )
    return session.connection().execute(stmt).first() is not None


def first_time(session: Session, update_id: int | None, now: datetime) -> bool:
    """Record a Telegram update id; False when it was acted on before (a redelivery)."""
    if update_id is None:
        return True
    stmt = (
        _insert(session, SeenUpdate)
        .values(update_id=update_id, at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(SeenUpdate.update_id)
    )
    return session.connection().execute(stmt).first() is not None


def current_draft(session: Session, complaint_id: int, purpose: str = "reply") -> Draft | None:
    """The newest draft of the public reply (or of the follow-up, ``purpose="follow_up"``)."""
    return session.scalars(
        select(Draft)
        .where(Draft.complaint_id == complaint_id, Draft.purpose == purpose)
        .order_by(Draft.id.desc())
        .limit(1)
    ).first()


def _requeue(
    session: Session, key: str, complaint_id: int, payload: dict[str, Any], manual: bool, now: datetime
) -> None:
    """Queue a public post (for a person to post, when ``manual``), or queue it again with new
    content (a repost after a person checked, a follow-up approved after a refusal)."""
    event = E.HANDED_OVER if manual else E.QUEUED
    status = lifecycle.delivery_after(None, event).value
    if add_outbox(session, key=key, kind="publish", complaint_id=complaint_id, payload=payload, now=now, status=status):
        return
    row = session.scalars(select(Outbox).where(Outbox.key == key).with_for_update()).one()
    if row.advance(event, now):
        row.payload, row.next_attempt_at, row.last_error = payload, now, None


def _state(session: Session, c: Complaint) -> State:
    """What the pure rules need to know of a complaint."""
    follow_up = FollowUp(c.follow_up) if c.follow_up else None
    return State(Status(c.status), c.owner_id, c.owner_name, c.publisher, follow_up, links.is_bound(session, c.id))


def _editable(c: Complaint) -> bool:
    """Whether the public reply's draft can still be rewritten."""
    return lifecycle.allows(Part.STATUS, Status(c.status), E.EDITED)


def _score(origin: dict[str, Any] | None) -> int | None:
    value = (origin or {}).get("score")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class SqlInbox:
    """Implements core.inbox.InboxStore."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        clock: Clock = _now,
        causes: Sequence[str] = (),
        max_attempts: int = 10,
        give_up_after: timedelta = timedelta(days=1),
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.max_attempts = max_attempts  # an outbox row is given up after this many failed sends
        self.give_up_after = give_up_after  # … or after this long of passing failures
        self.causes = list(causes)  # review.causes: a cause button carries its number in this list

    # -- staff actions -------------------------------------------------------------------

    def _locked(self, session: Session, complaint_id: int) -> Complaint | None:
        return session.scalars(select(Complaint).where(Complaint.id == complaint_id).with_for_update()).first()

    def act(self, complaint_id: int, action: Action, who: Staff, arg: str | None, update_id: int | None) -> Applied:
        now = self.clock()
        with self.sessions.begin() as session:
            if not first_time(session, update_id, now):
                return Applied(notice="already_done", duplicate=True)
            c = self._locked(session, complaint_id)
            if c is None:
                return Applied(notice="unknown_complaint")
            state = _state(session, c)
            if action is Action.CAUSE_SET and arg not in (None, "other"):
                arg = self.causes[int(arg)] if arg.isdigit() and int(arg) < len(self.causes) else None
            decision = decide(state, action, who, arg)
            if not decision.changed:
                return Applied(notice=decision.notice, ask=decision.ask)
            self._apply(session, c, decision, who, now)
            return self._changed(session, c, decision.notice, decision.ask)

    def _apply(self, session: Session, c: Complaint, d: Decision, who: Staff, now: datetime) -> None:
        if d.owner is not None:
            c.owner_id, c.owner_name = d.owner.id, d.owner.name[:128]
        if d.reject_reason is not None:
            c.reject_reason = d.reject_reason
        if d.status is Status.PUBLISHED and c.first_response_at is None:
            c.first_response_at = now
            row = session.scalars(select(Outbox).where(Outbox.key == f"publish:{c.id}").with_for_update()).first()
            if row is not None and row.advance(E.POSTED, now):
                row.result = {"confirmed_by": who.id}
        if d.event is not None:
            c.advance(d.event, now)
        c.updated_at = now
        for kind, data in d.events:
            session.add(Event(complaint_id=c.id, at=now, kind=kind, actor=who.actor, data=data))
        if d.follow_up is not None:
            c.advance_follow_up(d.follow_up, now)
        if d.cause is not None:
            from storage.actions import record_cause  # actions build on the outbox here

            record_cause(session, c, d.cause, None, who.actor, now)
        if d.justified is not None:
            c.justified = d.justified
        if d.release_link:
            links.release(session, c, now)
        if d.publish:
            self._queue_publish(session, c, who, now)
        if d.publish_follow_up:
            self._queue_follow_up(session, c, now)

    def _queue_publish(self, session: Session, c: Complaint, who: Staff, now: datetime) -> None:
        draft = current_draft(session, c.id)
        mention = session.get(Mention, c.mention_id) if c.mention_id else None
        payload = {
            "publisher": c.publisher,
            "text": draft.text if draft else "",
            "draft_id": draft.id if draft else None,
            "origin": mention.origin if mention else None,
            "url": mention.url if mention else None,
        }
        manual = c.publisher == "manual"
        _requeue(session, f"publish:{c.id}", c.id, payload, manual, now)
        if manual:
            c.advance(E.HANDED_OVER, now)
        session.add(
            Event(complaint_id=c.id, at=now, kind="publish_queued", actor=who.actor, data={"publisher": c.publisher})
        )

    def _queue_follow_up(self, session: Session, c: Complaint, now: datetime) -> None:
        """The follow-up goes under our first public reply where we know it, else under the post."""
        draft = current_draft(session, c.id, "follow_up")
        mention = session.get(Mention, c.mention_id) if c.mention_id else None
        origin = dict(mention.origin or {}) if mention else {}
        reply_to: str | int | None = None
        if c.reply_id and origin.get("platform") == "reddit":
            reply_to = c.reply_id
        elif c.reply_id and ":" in c.reply_id:  # a Telegram reply "chat:message"
            reply_to = int(c.reply_id.rsplit(":", 1)[1])
        payload = {
            "publisher": c.publisher,
            "text": draft.text if draft else "",
            "origin": origin or None,
            "reply_to": reply_to,
            "url": c.reply_url or (mention.url if mention else None),
            "follow_up": True,
        }
        manual = c.publisher == "manual"
        _requeue(session, f"followup:{c.id}", c.id, payload, manual, now)
        if manual:
            c.advance_follow_up(E.HANDED_OVER, now)

    def save_edit(self, prompt: Prompt, who: Staff, text: str, update_id: int | None) -> Applied:
        now = self.clock()
        problem = check_draft(text)
        if problem:
            return Applied(notice=problem)
        with self.sessions.begin() as session:
            if not first_time(session, update_id, now):
                return Applied(notice="already_done", duplicate=True)
            c = self._locked(session, prompt.complaint_id)
            row = session.get(StaffPrompt, prompt.id)
            if c is None or row is None:
                return Applied(notice="unknown_complaint")
            if row.answered_at is not None:
                return Applied(notice="prompt_answered")
            if prompt.purpose == "reject_text":
                state = _state(session, c)
                d = decide(state, Action.REJECT_AS, who, f"other:{text.strip()[:500]}")
                if not d.changed:
                    return Applied(notice=d.notice)
                row.answered_at = now
                self._apply(session, c, d, who, now)
                return self._changed(session, c, d.notice)
            if prompt.purpose == "cause_text":
                from storage.actions import record_cause

                row.answered_at = now
                record_cause(session, c, f"other:{text.strip()[:57]}", None, who.actor, now)
                return self._changed(session, c, "cause_saved", ask="justified")
            if prompt.purpose == "follow_up_text":
                if not c.advance_follow_up(E.EDITED, now):
                    return Applied(notice="follow_up_not_now")
                row.answered_at = now
                draft = Draft(complaint_id=c.id, text=text, status=DraftStatus.EDITED.value, author=who.actor)
                draft.created_at, draft.purpose = now, "follow_up"
                session.add(draft)
                session.add(Event(complaint_id=c.id, at=now, kind="follow_up_edited", actor=who.actor, data={}))
                return self._changed(session, c, "edit_saved")
            if not _editable(c):
                return Applied(notice=f"not_now_{c.status}")
            row.answered_at = now
            return self._edit(session, c, who, text, now)

    def edit_draft(self, complaint_id: int, who: Staff, text: str) -> Applied:
        """A new text for the public reply, written outside Telegram (the web dashboard)."""
        now = self.clock()
        problem = check_draft(text)
        if problem:
            return Applied(notice=problem)
        with self.sessions.begin() as session:
            c = self._locked(session, complaint_id)
            if c is None:
                return Applied(notice="unknown_complaint")
            if not _editable(c):
                return Applied(notice=f"not_now_{c.status}")
            return self._edit(session, c, who, text, now)

    def _edit(self, session: Session, c: Complaint, who: Staff, text: str, now: datetime) -> Applied:
        session.add(
            Draft(complaint_id=c.id, text=text, status=DraftStatus.EDITED.value, author=who.actor, created_at=now)
        )
        session.add(Event(complaint_id=c.id, at=now, kind="draft_edited", actor=who.actor, data={"name": who.name}))
        c.advance(E.EDITED, now)
        return self._changed(session, c, "edit_saved")

    # -- prompts ---------------------------------------------------------------------------

    def add_prompt(self, chat_id: int, message_id: int, complaint_id: int, user_id: int, purpose: str) -> None:
        with self.sessions.begin() as session:
            session.add(
                StaffPrompt(
                    chat_id=chat_id,
                    message_id=message_id,
                    complaint_id=complaint_id,
                    user_id=user_id,
                    purpose=purpose,
                    created_at=self.clock(),
                )
            )

    def find_prompt(self, chat_id: int, message_id: int) -> Prompt | None:
        with self.sessions() as session:
            row = session.scalars(
                select(StaffPrompt).where(StaffPrompt.chat_id == chat_id, StaffPrompt.message_id == message_id)
            ).first()
            if row is None:
                return None
            return Prompt(row.id, row.complaint_id, row.user_id, row.purpose, row.answered_at is not None)

    # -- cards -------------------------------------------------------------------------------

    def card(self, complaint_id: int) -> CardView | None:
        with self.sessions() as session:
            return self._view(session, complaint_id)

    def _changed(self, session: Session, c: Complaint, notice: str, ask: str | None = None) -> Applied:
        """A change made in this transaction, with the card as it now stands and its version, so
        the bot can redraw it at once."""
        version = bump_card(session, c.id)
        return Applied(notice=notice, changed=True, ask=ask, card=self._view(session, c.id), version=version)

    def _view(self, session: Session, complaint_id: int) -> CardView | None:
        c = session.get(Complaint, complaint_id)
        if c is None:
            return None
        m = session.get(Mention, c.mention_id) if c.mention_id else None
        draft = current_draft(session, c.id)
        names = self._who_did(session, c.id)
        publish = session.scalars(select(Outbox).where(Outbox.key == f"publish:{c.id}")).first()
        conv = session.get(ConversationRow, c.id)
        follow = current_draft(session, c.id, "follow_up") if c.follow_up else None
        return CardView(
            id=c.id,
            status=Status(c.status),
            source=m.source if m else "",
            url=m.url if m else None,
            author=m.author if m else None,
            title=m.title if m else None,
            text=m.text if m else "",
            rating=m.rating if m else None,
            language=c.language,
            kind=m.kind if m else "complaint",
            flags=tuple(c.flags),
            severity=c.severity,
            category=c.category,
            created_at=c.created_at,
            due=c.first_response_due,
            responded_at=c.first_response_at,
            draft=draft.text if draft else "",
            draft_edited_by=names.get("draft_edited"),
            owner_id=c.owner_id,
            owner_name=c.owner_name,
            publisher=c.publisher,
            reject_reason=c.reject_reason,
            approved_by=names.get("approved"),
            published_by=names.get("published"),
            publish_error=publish.last_error if publish is not None and publish.status != Delivery.DONE else None,
            card_chat_id=c.card_chat_id,
            card_message_id=c.card_message_id,
            conversation_step=conv.step if conv is not None and conv.customer_id is not None else None,
            insults=int((conv.state or {}).get("insults") or 0) if conv is not None else 0,
            reply_url=c.reply_url,
            score=_score(m.origin if m else None),
            follow_up=c.follow_up,
            follow_up_text=follow.text if follow is not None else "",
            root_cause=c.root_cause,
            justified=c.justified,
            failed_sends=outbox.failures(session, c.id),
            customer_name=conv.customer_name if conv is not None and conv.customer_id is not None else None,
            customer_username=conv.customer_username if conv is not None and conv.customer_id is not None else None,
            new_link=links.new_link(session, c),
        )

    def _who_did(self, session: Session, complaint_id: int) -> dict[str, str]:
        kinds = ("approved", "published", "draft_edited")
        rows = session.execute(
            select(Event.kind, Event.data)
            .where(Event.complaint_id == complaint_id, Event.kind.in_(kinds))
            .order_by(Event.id)
        )
        return {kind: str((data or {}).get("name") or "") for kind, data in rows}

    def due_cards(self, limit: int, only: int | None = None) -> list[tuple[int, int]]:
        """Cards to send or redraw (complaint id, version), or only complaint ``only``'s."""
        query = select(CardQueue.complaint_id, CardQueue.version).where(CardQueue.version > CardQueue.drawn)
        if only is not None:
            query = query.where(CardQueue.complaint_id == only)
        with self.sessions() as session:
            rows = session.execute(query.order_by(CardQueue.complaint_id).limit(limit))
            return [(cid, v) for cid, v in rows]

    def card_sent(self, complaint_id: int, version: int, chat_id: int | None, message_id: int | None) -> None:
        with self.sessions.begin() as session:
            if message_id is not None:
                session.execute(
                    update(Complaint)
                    .where(Complaint.id == complaint_id)
                    .values(card_chat_id=chat_id, card_message_id=message_id)
                )
            session.execute(
                update(CardQueue)
                .where(CardQueue.complaint_id == complaint_id, CardQueue.drawn < version)
                .values(drawn=version)
            )

    def cards_drawn(self, versions: dict[int, int]) -> None:
        """Record many redrawn cards (complaint id → version) in one transaction."""
        if not versions:
            return
        stmt = (
            update(CardQueue)
            .where(CardQueue.complaint_id == bindparam("cid"), CardQueue.drawn < bindparam("v"))
            .values(drawn=bindparam("v"))
        )
        with self.sessions.begin() as session:
            session.connection().execute(stmt, [{"cid": cid, "v": v} for cid, v in sorted(versions.items())])

    # -- outbox --------------------------------------------------------------------------------

    def recover(self, checkable: frozenset[str] = frozenset()) -> int:
        """After a restart: alerts cut off mid-send go again; a public reply cut off mid-send is
        never re-sent blindly: a publisher in ``checkable`` looks first whether it got through,
        otherwise its complaint waits for a person to check (at most once in public)."""
        now = self.clock()
        with self.sessions.begin() as session:
            rows = list(session.scalars(select(Outbox).where(Outbox.status == Delivery.SENDING.value)))
            for row in rows:
                if row.kind == "publish" and (row.payload or {}).get("publisher") not in checkable:
                    self._mark_unconfirmed(session, row, "the process stopped while this reply was being sent", now)
                else:
                    row.advance(E.RETRIED, now)
            return len(rows)

    def claim(self, limit: int) -> list[OutboxItem]:
        now = self.clock()
        with self.sessions.begin() as session:
            rows = list(
                session.scalars(
                    select(Outbox)
                    .where(Outbox.status == Delivery.PENDING.value, Outbox.next_attempt_at <= now)
                    .order_by(Outbox.next_attempt_at, Outbox.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            for row in rows:
                row.advance(E.CLAIMED, now)
                row.attempts += 1
            return [OutboxItem(r.id, r.key, r.kind, r.complaint_id, dict(r.payload), r.attempts) for r in rows]

    def progress(self, outbox_id: int, sent: int) -> None:
        """How many of a row's messages went out (a retry continues after them)."""
        with self.sessions.begin() as session:
            row = session.get(Outbox, outbox_id)
            if row is not None:
                row.payload = {**row.payload, "sent": sent}

    def sent(self, item: OutboxItem, result: dict[str, Any]) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            row = session.get(Outbox, item.id)
            if row is None:
                return
            row.advance(E.SENT, now)  # a row cancelled meanwhile (the customer was forgotten) stays so
            row.result, row.last_error = result, None
            if item.kind == "publish" and item.complaint_id is not None:
                c = self._locked(session, item.complaint_id)
                if c is not None and item.payload.get("follow_up"):
                    c.advance_follow_up(E.SENT, now)
                    data = {"publisher": item.payload.get("publisher"), **result}
                    session.add(
                        Event(complaint_id=c.id, at=now, kind="follow_up_published", actor="reclaim", data=data)
                    )
                    bump_card(session, c.id)
                elif c is not None:
                    if result.get("id"):
                        c.reply_id, c.reply_url = str(result["id"])[:64], result.get("url")
                    c.advance(E.SENT, now)  # a complaint the customer closed meanwhile stays closed
                    c.first_response_at = c.first_response_at or now
                    data = {"publisher": item.payload.get("publisher"), **result}
                    session.add(Event(complaint_id=c.id, at=now, kind="published", actor="reclaim", data=data))
                    bump_card(session, c.id)

    def retry(self, item: OutboxItem, error: str, delay: timedelta, transient: bool = False) -> None:
        """Try again after ``delay``, within bounds: ``max_attempts`` for an error that comes back
        the same, ``give_up_after`` since the row was queued for a passing one (Telegram or Reddit
        unreachable, a flood limit), so an outage does not fail every queued message."""
        now = self.clock()
        with self.sessions.begin() as session:
            row = session.get(Outbox, item.id)
            if row is None:
                return
            if transient and now - row.created_at > self.give_up_after:
                outbox.give_up(
                    session, row, f"{error} (given up after {human((now - row.created_at).total_seconds())})", now
                )
            elif not transient and row.attempts >= self.max_attempts:
                outbox.give_up(session, row, f"{error} (given up after {row.attempts} attempts)", now)
            else:
                row.advance(E.RETRIED, now)
                row.last_error, row.next_attempt_at = error[:2000], now + delay
            if item.complaint_id is not None and (item.kind == "publish" or row.status == outbox.FAILED):
                bump_card(session, item.complaint_id)

    def failed(self, item: OutboxItem, error: str) -> None:
        """A send that can never succeed as it stands (a bug, a payload that makes no sense):
        not tried again; the card says so, and staff retry or drop it."""
        now = self.clock()
        with self.sessions.begin() as session:
            row = session.get(Outbox, item.id)
            if row is None:
                return
            outbox.give_up(session, row, error, now)
            if item.complaint_id is not None:
                bump_card(session, item.complaint_id)

    def refused(self, item: OutboxItem, error: str) -> None:
        """The place will not take the reply: nothing was posted, and retrying cannot help. The
        complaint waits for a person (post it some other way and press Posted, or go private)."""
        now = self.clock()
        with self.sessions.begin() as session:
            row = session.get(Outbox, item.id)
            if row is None:
                return
            row.advance(E.REFUSED, now)
            row.last_error = error[:2000]
            c = self._locked(session, item.complaint_id) if item.complaint_id is not None else None
            if c is None:
                return
            if item.payload.get("follow_up"):
                c.advance_follow_up(E.REFUSED, now)
            else:
                c.advance(E.REFUSED, now)
            session.add(
                Event(complaint_id=c.id, at=now, kind="publish_refused", actor="reclaim", data={"error": error})
            )
            bump_card(session, c.id)

    def unconfirmed(self, item: OutboxItem, error: str) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            row = session.get(Outbox, item.id)
            if row is not None:
                self._mark_unconfirmed(session, row, error, now)

    def _mark_unconfirmed(self, session: Session, row: Outbox, error: str, now: datetime) -> None:
        row.advance(E.CUT_OFF, now)
        row.last_error = error[:2000]
        if row.complaint_id is None:
            return
        c = self._locked(session, row.complaint_id)
        if c is None:
            return
        follow_up = bool((row.payload or {}).get("follow_up"))
        if follow_up:
            c.advance_follow_up(E.CUT_OFF, now)
        else:
            c.advance(E.CUT_OFF, now)
        data = {"error": error, **({"follow_up": True} if follow_up else {})}
        session.add(Event(complaint_id=c.id, at=now, kind="publish_unconfirmed", actor="reclaim", data=data))
        bump_card(session, c.id)

    def next_due(self) -> datetime | None:
        with self.sessions() as session:
            return session.scalar(
                select(Outbox.next_attempt_at)
                .where(Outbox.status == Delivery.PENDING.value)
                .order_by(Outbox.next_attempt_at)
                .limit(1)
            )
