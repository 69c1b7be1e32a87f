"""The staff's use cases on a complaint, from Telegram and the dashboard alike: take, approve,
edit, reject, mark posted, causes, the follow-up, releasing a link (core.inbox.decide says
what each press means), and the prompts that ask for a text. Each is one transaction: the
action, its events, the card's new version and any outbox row it causes are committed
together, so a crash leaves all or none."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from core import lifecycle
from core.inbox import Action, Decision, Staff, State, check_draft, decide
from core.lifecycle import Event as E
from core.lifecycle import FollowUp, Part, Status
from core.model import DraftStatus
from core.outbox import Amend, Publish, to_json
from core.ports import Applied, CardView, Prompt
from services.causes import record_cause
from services.learning import label_decision
from storage.tables import Complaint, Draft, StaffPrompt
from storage.uow import UnitOfWork

Clock = Callable[[], datetime]


def _state(uow: UnitOfWork, c: Complaint) -> State:
    """What the pure rules need to know of a complaint."""
    follow_up = FollowUp(c.follow_up) if c.follow_up else None
    conv = uow.conversations.get(c.id)
    bound = conv is not None and conv.customer_id is not None
    amendable = c.publisher != "manual" and bool(c.reply_id)
    return State(Status(c.status), c.owner_id, c.owner_name, c.publisher, follow_up, bound, amendable)


def _editable(c: Complaint) -> bool:
    """Whether the public reply's draft can still be rewritten."""
    return lifecycle.allows(Part.STATUS, Status(c.status), E.EDITED)


def requeue(
    uow: UnitOfWork, key: str, complaint_id: int, payload: Publish | Amend, manual: bool, now: datetime
) -> None:
    """Queue a public post (for a person to post, when ``manual``), or queue it again with new
    content (a repost after a person checked, a follow-up approved after a refusal)."""
    event = E.HANDED_OVER if manual else E.QUEUED
    status = lifecycle.delivery_after(None, event).value
    if uow.outbox.add(key, payload, complaint_id, now, status=status):
        return
    row = uow.outbox.by_key(key, lock=True)
    if row is not None and row.advance(event, now):
        row.payload, row.next_attempt_at, row.last_error = to_json(payload), now, None


class StaffInbox:
    """Implements core.ports.StaffStore over a unit of work."""

    def __init__(self, uow: Callable[[], UnitOfWork], *, clock: Clock = lambda: datetime.now(UTC),
                 causes: Sequence[str] = ()) -> None:  # fmt: skip
        self.uow, self.clock = uow, clock
        self.causes = list(causes)  # review.causes: a cause button carries its number in this list

    def act(self, complaint_id: int, action: Action, who: Staff, arg: str | None, update_id: int | None) -> Applied:
        now = self.clock()
        with self.uow() as uow:
            if not uow.updates.first_time(update_id, now):
                return Applied(notice="already_done", duplicate=True)
            c = uow.complaints.get(complaint_id, lock=True)
            if c is None:
                return Applied(notice="unknown_complaint")
            if action is Action.CAUSE_SET and arg not in (None, "other"):
                arg = self.causes[int(arg)] if arg.isdigit() and int(arg) < len(self.causes) else None
            decision = decide(_state(uow, c), action, who, arg)
            if not decision.changed:
                if decision.ask and c.owner_id is None and Status(c.status) in lifecycle.OPEN:  # the policy waits
                    uow.events.add(c.id, "asked", who.actor, {"action": action.value, "name": who.name}, now)
                return Applied(notice=decision.notice, ask=decision.ask)
            self._apply(uow, c, decision, who, now)
            return _changed(uow, c, decision.notice, decision.ask)

    def _apply(self, uow: UnitOfWork, c: Complaint, d: Decision, who: Staff, now: datetime) -> None:
        if d.owner is not None:
            c.owner_id, c.owner_name = d.owner.id, d.owner.name[:128]
        if d.reject_reason is not None:
            c.reject_reason = d.reject_reason
        if d.status is Status.PUBLISHED and c.first_response_at is None:
            c.first_response_at = now
            row = uow.outbox.by_key(f"publish:{c.id}", lock=True)
            if row is not None and row.advance(E.POSTED, now):
                row.result = {"confirmed_by": who.id}
        if d.event is not None:
            c.advance(d.event, now)
            if c.kind == "complaint":  # approving an answer or a thanks says nothing of a complaint
                label_decision(uow, c.mention_id, d.event, d.reject_reason, who.actor, now)
        c.updated_at = now
        for kind, data in d.events:
            uow.events.add(c.id, kind, who.actor, data, now)
        self._effects(uow, c, d, who, now)

    def _effects(self, uow: UnitOfWork, c: Complaint, d: Decision, who: Staff, now: datetime) -> None:
        """What a decision sets off beyond the status: follow-up, cause, link, what gets queued."""
        if d.follow_up is not None:
            c.advance_follow_up(d.follow_up, now)
        if d.cause is not None:
            record_cause(uow, c, d.cause, None, who.actor, now)
        if d.justified is not None:
            c.justified = d.justified
        if d.release_link:
            uow.links.release(c, now)
        if d.publish:
            queue_publish(uow, c, who.actor, now)
        if d.publish_follow_up:
            _queue_follow_up(uow, c, now)
        if d.withdraw and c.reply_id:  # a withdrawal that was refused or failed goes again
            amend = Amend(c.publisher, c.reply_id, None, by=who.actor, name=who.name)
            requeue(uow, f"withdraw:{c.id}:{c.reply_id}", c.id, amend, False, now)

    def save_edit(self, prompt: Prompt, who: Staff, text: str, update_id: int | None) -> Applied:
        """A staff member's reply to the bot's question: a new draft, a reason, a cause, a follow-up."""
        now = self.clock()
        problem = check_draft(text)
        if problem:
            return Applied(notice=problem)
        with self.uow() as uow:
            if not uow.updates.first_time(update_id, now):
                return Applied(notice="already_done", duplicate=True)
            c = uow.complaints.get(prompt.complaint_id, lock=True)
            row = uow.prompts.get(prompt.id)
            if c is None or row is None:
                return Applied(notice="unknown_complaint")
            if row.answered_at is not None:
                return Applied(notice="prompt_answered")
            return self._answer(uow, c, row, who, text, now)

    def _answer(self, uow: UnitOfWork, c: Complaint, row: StaffPrompt, who: Staff, text: str, now: datetime) -> Applied:
        if row.purpose == "reject_text":
            d = decide(_state(uow, c), Action.REJECT_AS, who, f"other:{text.strip()[:500]}")
            if not d.changed:
                return Applied(notice=d.notice)
            row.answered_at = now
            self._apply(uow, c, d, who, now)
            return _changed(uow, c, d.notice)
        if row.purpose == "cause_text":
            row.answered_at = now
            record_cause(uow, c, f"other:{text.strip()[:57]}", None, who.actor, now)
            return _changed(uow, c, "cause_saved", ask="justified")
        if row.purpose == "follow_up_text":
            if not c.advance_follow_up(E.EDITED, now):
                return Applied(notice="follow_up_not_now")
            row.answered_at = now
            draft = Draft(complaint_id=c.id, text=text, status=DraftStatus.EDITED.value, author=who.actor)
            draft.created_at, draft.purpose = now, "follow_up"
            uow.drafts.add(draft)
            uow.events.add(c.id, "follow_up_edited", who.actor, {}, now)
            return _changed(uow, c, "edit_saved")
        # a new text for the draft, or for our published reply: whichever the complaint has now
        # (published by policy while someone was writing, or withdrawn while someone was editing)
        if _editable(c):
            row.answered_at = now
            return _edit(uow, c, who, text, now)
        if _amendable(c):
            row.answered_at = now
            return _amend(uow, c, str(row.id), who, text, now)
        return Applied(notice=f"not_now_{c.status}")

    def edit_draft(self, complaint_id: int, who: Staff, text: str, published: bool = False) -> Applied:
        """A new text for the public reply, written outside Telegram (the web dashboard): the
        draft, or (``published``) our published reply where its place can edit it in place. Each
        only while the complaint still has one: a draft form sent after the policy published the
        reply never rewrites what people see."""
        now = self.clock()
        problem = check_draft(text)
        if problem:
            return Applied(notice=problem)
        with self.uow() as uow:
            c = uow.complaints.get(complaint_id, lock=True)
            if c is None:
                return Applied(notice="unknown_complaint")
            if not published and _editable(c):
                return _edit(uow, c, who, text, now)
            if published and _amendable(c):
                return _amend(uow, c, f"w{uuid.uuid4().hex[:12]}", who, text, now)
            return Applied(notice=f"not_now_{c.status}")

    def add_prompt(self, chat_id: int, message_id: int, complaint_id: int, user_id: int, purpose: str) -> None:
        with self.uow() as uow:
            uow.prompts.add(StaffPrompt(chat_id=chat_id, message_id=message_id, complaint_id=complaint_id,
                                        user_id=user_id, purpose=purpose, created_at=self.clock()))  # fmt: skip

    def find_prompt(self, chat_id: int, message_id: int) -> Prompt | None:
        with self.uow() as uow:
            row = uow.prompts.find(chat_id, message_id)
            if row is None:
                return None
            return Prompt(row.id, row.complaint_id, row.user_id, row.purpose, row.answered_at is not None)

    def card(self, complaint_id: int) -> CardView | None:
        with self.uow() as uow:
            return uow.cards.view(complaint_id)


def _edit(uow: UnitOfWork, c: Complaint, who: Staff, text: str, now: datetime) -> Applied:
    uow.drafts.add(Draft(complaint_id=c.id, text=text, status=DraftStatus.EDITED.value, author=who.actor,
                         created_at=now))  # fmt: skip
    uow.events.add(c.id, "draft_edited", who.actor, {"name": who.name}, now)
    c.advance(E.EDITED, now)
    if c.kind == "complaint":  # someone wrote a reply to it: it is a complaint
        label_decision(uow, c.mention_id, E.EDITED, None, who.actor, now)
    return _changed(uow, c, "edit_saved")


def _amendable(c: Complaint) -> bool:
    """Whether our public reply is out where its publisher can edit it in place."""
    return c.status in (Status.PUBLISHED, Status.CLOSED) and c.publisher != "manual" and bool(c.reply_id)


def _amend(uow: UnitOfWork, c: Complaint, ref: str, who: Staff, text: str, now: datetime) -> Applied:
    """A new text for our published reply (``ref``: which question or page it came from, unique
    per edit): the publisher edits it in place; the card shows the new text once the place has
    it (services/delivery.py). An older edit still waiting is dropped, so it cannot land after
    this one."""
    assert c.reply_id is not None
    for older in uow.outbox.of_complaint(c.id, ("amend",)):
        if older.key.startswith(f"amend:{c.id}:"):
            older.advance(E.WITHDRAWN, now)  # only a row still waiting (pending, failed) moves
    amend = Amend(c.publisher, c.reply_id, text, by=who.actor, name=who.name)
    uow.outbox.add(f"amend:{c.id}:{ref}", amend, c.id, now)
    uow.events.add(c.id, "reply_edit_queued", who.actor, {"name": who.name}, now)
    return _changed(uow, c, "reply_edit_queued")


def _changed(uow: UnitOfWork, c: Complaint, notice: str, ask: str | None = None) -> Applied:
    """A change made in this transaction, with the card as it now stands and its version, so
    the bot can redraw it at once."""
    version = uow.cards.bump(c.id)
    return Applied(notice=notice, changed=True, ask=ask, card=uow.cards.view(c.id), version=version)


def queue_publish(uow: UnitOfWork, c: Complaint, actor: str, now: datetime) -> None:
    """The current draft of the public reply goes to the complaint's publisher (or to a person)."""
    draft = uow.drafts.current(c.id)
    mention = uow.complaints.mention(c.mention_id)
    payload = Publish(
        c.publisher,
        draft.text if draft else "",
        origin=mention.origin if mention else None,
        url=mention.url if mention else None,
        draft_id=draft.id if draft else None,
    )
    manual = c.publisher == "manual"
    requeue(uow, f"publish:{c.id}", c.id, payload, manual, now)
    if manual:
        c.advance(E.HANDED_OVER, now)
    uow.events.add(c.id, "publish_queued", actor, {"publisher": c.publisher}, now)


def _queue_follow_up(uow: UnitOfWork, c: Complaint, now: datetime) -> None:
    """The follow-up goes under our first public reply where we know it, else under the post."""
    draft = uow.drafts.current(c.id, "follow_up")
    mention = uow.complaints.mention(c.mention_id)
    origin = dict(mention.origin or {}) if mention else {}
    reply_to: str | int | None = None
    if c.reply_id and origin.get("platform") == "reddit":
        reply_to = c.reply_id
    elif c.reply_id and ":" in c.reply_id:  # a Telegram reply "chat:message"
        reply_to = int(c.reply_id.rsplit(":", 1)[1])
    payload = Publish(
        c.publisher,
        draft.text if draft else "",
        origin=origin or None,
        url=c.reply_url or (mention.url if mention else None),
        reply_to=reply_to,
        follow_up=True,
    )
    manual = c.publisher == "manual"
    requeue(uow, f"followup:{c.id}", c.id, payload, manual, now)
    if manual:
        c.advance_follow_up(E.HANDED_OVER, now)
