"""The dispatcher's use cases: which staff cards to draw, and each outbox row's fate (claimed,
sent, retried within bounds, refused, cut off mid-send, given up), with what each means for
its complaint: a reply sent is the first response, a refusal waits for a person, a reply cut
off mid-send is never sent again blindly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from core.lifecycle import Delivery as D
from core.lifecycle import Event as E
from core.model import DraftStatus
from core.outbox import Amend, Erased, OutboxItem, OutboxKind, Payload, Publish, Say, from_json, to_json
from core.ports import CardView
from core.review import human
from storage.tables import Complaint, Draft, Outbox, StaffPrompt
from storage.uow import UnitOfWork

CUT_OFF = "the process stopped while this reply was being sent"
KINDS = frozenset(k.value for k in OutboxKind)


class OutboxError(ValueError):
    """Rows a person asked to retry or drop that cannot be (none such, not failed)."""


def give_up(uow: UnitOfWork, row: Outbox, error: str, now: datetime) -> None:
    """The row is not tried again until a person says so (`reclaim outbox retry`); its card says so."""
    if not row.advance(E.GAVE_UP, now):
        return
    row.last_error = error[:2000]
    if row.complaint_id is not None:
        data = {"key": row.key, "attempts": row.attempts, "error": error[:500]}
        uow.events.add(row.complaint_id, "send_failed", "reclaim", data, now)


class Delivery:
    """Implements core.ports.DeliveryStore over a unit of work."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_attempts: int = 10,
        give_up_after: timedelta = timedelta(days=1),
    ) -> None:
        self.uow, self.clock = uow, clock
        # several workers: whether this one still leads (None: the only worker, SQLite)
        self.fence: Callable[[UnitOfWork], bool] | None = None
        self.max_attempts = max_attempts  # an outbox row is given up after this many failed sends
        self.give_up_after = give_up_after  # … or after this long of passing failures

    # -- cards -------------------------------------------------------------------------------

    def card(self, complaint_id: int) -> CardView | None:
        with self.uow() as uow:
            return uow.cards.view(complaint_id)

    def _fenced(self, uow: UnitOfWork) -> bool:
        """Several workers: a leader the others have replaced sends nothing more (its own
        heartbeat steps it down within seconds; this closes the gap until then)."""
        return self.fence is not None and not self.fence(uow)

    def due_cards(self, limit: int, only: int | None = None) -> list[tuple[int, int]]:
        """Cards to send or redraw (complaint id, version), or only complaint ``only``'s."""
        with self.uow() as uow:
            return [] if self._fenced(uow) else uow.cards.due(limit, only)

    def card_sent(self, complaint_id: int, version: int, chat_id: int | None, message_id: int | None) -> None:
        with self.uow() as uow:
            if message_id is not None:  # the complaint's row before its card's, as every writer locks them
                c = uow.complaints.get(complaint_id, lock=True)
                if c is not None:
                    c.card_chat_id, c.card_message_id = chat_id, message_id
            uow.cards.drawn({complaint_id: version})

    def cards_drawn(self, versions: dict[int, int]) -> None:
        """Record many redrawn cards (complaint id → version) in one transaction."""
        if versions:
            with self.uow() as uow:
                uow.cards.drawn(versions)

    def add_prompt(self, chat_id: int, message_id: int, complaint_id: int, user_id: int, purpose: str) -> None:
        """A relayed message in the staff chat: a reply to it goes to the customer."""
        with self.uow() as uow:
            uow.prompts.add(StaffPrompt(chat_id=chat_id, message_id=message_id, complaint_id=complaint_id,
                                        user_id=user_id, purpose=purpose, created_at=self.clock()))  # fmt: skip

    # -- outbox rows ---------------------------------------------------------------------------

    def recover(self, checkable: frozenset[str] = frozenset()) -> int:
        """After a restart: rows cut off mid-send go again, but a public reply is never re-sent
        blindly: a publisher in ``checkable`` looks first whether it got through, otherwise its
        complaint waits for a person to check (at most once in public)."""
        now = self.clock()
        with self.uow() as uow:
            if self._fenced(uow):
                return 0
            rows = uow.outbox.in_status(D.SENDING.value)
            for row in rows:
                payload = _payload(row)
                if isinstance(payload, Publish) and payload.publisher not in checkable:
                    _cut_off(uow, row, CUT_OFF, now)
                else:
                    row.advance(E.RETRIED, now)
            return len(rows)

    def claim(self, limit: int) -> list[OutboxItem]:
        """Due rows, now being sent; a row of a kind this version does not know fails on its own."""
        now = self.clock()
        with self.uow() as uow:
            items: list[OutboxItem] = []
            if self._fenced(uow):
                return items
            for row in uow.outbox.claim(now, limit):
                if row.kind not in KINDS:
                    give_up(uow, row, f"cannot be sent: unknown outbox kind {row.kind!r}", now)
                    continue
                if _withdrawal_too_late(uow, row, now):
                    continue
                row.advance(E.CLAIMED, now)
                row.attempts += 1
                items.append(_item(row))
            return items

    def progress(self, outbox_id: int, sent: int) -> None:
        """How many of a row's messages went out (a retry continues after them)."""
        with self.uow() as uow:
            row = uow.outbox.get(outbox_id)
            payload = _payload(row) if row is not None else None
            if row is not None and isinstance(payload, Say):
                row.payload = to_json(replace(payload, sent=sent))

    def next_due(self) -> datetime | None:
        with self.uow() as uow:
            return uow.outbox.next_due()

    def sent(self, item: OutboxItem, result: dict[str, Any]) -> None:
        now = self.clock()
        with self.uow() as uow:
            c = _complaint_first(uow, item.complaint_id)
            row = uow.outbox.get(item.id)
            if row is None:
                return
            row.advance(E.SENT, now)  # a row cancelled meanwhile (the customer was forgotten) stays so
            row.result, row.last_error = result, None
            if isinstance(item.payload, Publish) and c is not None:
                _published(uow, c, item.payload, result, now)
            elif isinstance(item.payload, Amend) and c is not None and row.status != D.CANCELLED.value:
                _amended(uow, c, item.payload, result, now)  # not once the customer was forgotten

    def retry(self, item: OutboxItem, error: str, delay: timedelta, transient: bool = False) -> None:
        """Try again after ``delay``, within bounds: ``max_attempts`` for an error that comes back
        the same, ``give_up_after`` since the row was queued for a passing one (Telegram or Reddit
        unreachable, a flood limit), so an outage does not fail every queued message."""
        now = self.clock()
        with self.uow() as uow:
            row = uow.outbox.get(item.id)
            if row is None:
                return
            if transient and now - row.created_at > self.give_up_after:
                waited = human((now - row.created_at).total_seconds())
                give_up(uow, row, f"{error} (given up after {waited})", now)
            elif not transient and row.attempts >= self.max_attempts:
                give_up(uow, row, f"{error} (given up after {row.attempts} attempts)", now)
            else:
                row.advance(E.RETRIED, now)
                row.last_error, row.next_attempt_at = error[:2000], now + delay
            if item.complaint_id is not None and (item.kind is OutboxKind.PUBLISH or row.status == D.FAILED.value):
                uow.cards.bump(item.complaint_id)

    def failed(self, item: OutboxItem, error: str) -> None:
        """A send that can never succeed as it stands (a bug, a payload that makes no sense):
        not tried again; the card says so, and staff retry or drop it."""
        now = self.clock()
        with self.uow() as uow:
            row = uow.outbox.get(item.id)
            if row is None:
                return
            give_up(uow, row, error, now)
            if item.complaint_id is not None:
                uow.cards.bump(item.complaint_id)

    def refused(self, item: OutboxItem, error: str) -> None:
        """The place will not take the reply: nothing was posted, and retrying cannot help. The
        complaint waits for a person (post it some other way and press Posted, or go private)."""
        now = self.clock()
        with self.uow() as uow:
            c = _complaint_first(uow, item.complaint_id)
            row = uow.outbox.get(item.id)
            if row is None:
                return
            row.advance(E.REFUSED, now)
            row.last_error = error[:2000]
            if c is None:
                return
            if isinstance(item.payload, Amend):  # our reply stays as it was; the card says why
                what = "withdraw" if item.payload.withdraw else "edit"
                uow.events.add(c.id, "amend_refused", "reclaim", {"error": error, "what": what}, now)
                uow.cards.bump(c.id)
                return
            if isinstance(item.payload, Publish) and item.payload.follow_up:
                c.advance_follow_up(E.REFUSED, now)
            else:
                c.advance(E.REFUSED, now)
            uow.events.add(c.id, "publish_refused", "reclaim", {"error": error}, now)
            uow.cards.bump(c.id)

    def requeue(self, ids: Sequence[int], who: str) -> int:
        """`reclaim outbox retry`: failed rows (``ids``, or every one), or a refused message or edit by
        its id, queued again with a fresh count of attempts; the card drops its "not sent" line.
        A refused public reply is not: its card hands it to a person. All or none (OutboxError)."""
        return self._settle(ids, who, E.REQUEUED, "send_retried")

    def drop(self, ids: Sequence[int], who: str) -> int:
        """`reclaim outbox drop`: failed rows given up for good (they stay in the journal)."""
        return self._settle(ids, who, E.DROPPED, "send_dropped")

    def _settle(self, ids: Sequence[int], who: str, event: E, kind: str) -> int:
        now = self.clock()
        with self.uow() as uow:
            rows = [(i, uow.outbox.get(i, lock=True)) for i in ids] or [
                (r.id, r) for r in uow.outbox.in_status(D.FAILED.value)
            ]
            for outbox_id, row in rows:
                if row is None:
                    raise OutboxError(f"no outbox row #{outbox_id}")
                if event is E.REQUEUED and row.status == D.REFUSED.value and row.kind == OutboxKind.PUBLISH.value:
                    # its complaint went to a person to post by hand: a resend could make it public twice
                    raise OutboxError(f"outbox row #{outbox_id} is a public reply the place refused: its card says "
                                      "what to do (post it by hand, then press Posted)")  # fmt: skip
                if not row.advance(event, now):
                    raise OutboxError(f"outbox row #{outbox_id} is {row.status}: nothing to do")
                if event is E.REQUEUED:  # a fresh count of attempts, and a fresh give_up_after clock
                    row.attempts, row.next_attempt_at, row.created_at = 0, now, now
                if row.complaint_id is not None:
                    uow.events.add(row.complaint_id, kind, who, {"key": row.key}, now)
                    uow.cards.bump(row.complaint_id)
            return len(rows)

    def unconfirmed(self, item: OutboxItem, error: str) -> None:
        now = self.clock()
        with self.uow() as uow:
            row = uow.outbox.get(item.id)
            if row is not None:
                _cut_off(uow, row, error, now)


def _payload(row: Outbox) -> Payload | Erased:
    """A row's payload as its kind's dataclass; one that cannot be read is an Erased one of its
    kind (its sender finds nothing to send, and the row fails on its own)."""
    try:
        return from_json(row.kind, row.payload or {})
    except ValueError:
        return Erased(OutboxKind(row.kind))


def _item(row: Outbox) -> OutboxItem:
    """A claimed row as the dispatcher sends it."""
    return OutboxItem(row.id, row.key, OutboxKind(row.kind), row.complaint_id, _payload(row), row.attempts)


def _complaint_first(uow: UnitOfWork, complaint_id: int | None) -> Complaint | None:
    """The row's complaint, locked before the row is touched: every writer locks a complaint
    before its outbox rows and its card (the other order deadlocks on PostgreSQL)."""
    return uow.complaints.get(complaint_id, lock=True) if complaint_id is not None else None


def _published(uow: UnitOfWork, c: Complaint, p: Publish, result: dict[str, Any], now: datetime) -> None:
    """A public reply (or the follow-up) is out: the complaint moves, the card says where."""
    data = {"publisher": p.publisher, **result}
    if p.follow_up:
        c.advance_follow_up(E.SENT, now)
        uow.events.add(c.id, "follow_up_published", "reclaim", data, now)
    else:
        if result.get("id"):
            c.reply_id, c.reply_url = str(result["id"])[:64], result.get("url")
        c.advance(E.SENT, now)  # a complaint the customer closed meanwhile stays closed
        c.first_response_at = c.first_response_at or now
        uow.events.add(c.id, "published", "reclaim", data, now)
    uow.cards.bump(c.id)


def _withdrawal_too_late(uow: UnitOfWork, row: Outbox, now: datetime) -> bool:
    """A withdrawal waiting while the customer opened the private link from our reply: not sent
    (the link they followed is in it); the card says so."""
    payload = _payload(row)
    if not (isinstance(payload, Amend) and payload.withdraw and row.complaint_id is not None):
        return False
    conv = uow.conversations.get(row.complaint_id)
    if conv is None or conv.customer_id is None:
        return False
    row.advance(E.WITHDRAWN, now)
    uow.events.add(row.complaint_id, "withdraw_cancelled", "reclaim", {"why": "the customer opened the link"}, now)
    uow.cards.bump(row.complaint_id)
    return True


def _amended(uow: UnitOfWork, c: Complaint, a: Amend, result: dict[str, Any], now: datetime) -> None:
    """Our public reply was edited (the card shows the new text) or taken down (a draft again:
    the next approval posts a new reply under a fresh outbox row)."""
    if a.withdraw:
        if c.reply_id == a.reply_id and c.advance(E.UNPUBLISHED, now):
            c.reply_id = c.reply_url = c.first_response_at = None  # unanswered again: the SLA runs
            uow.outbox.retire(f"publish:{c.id}")  # the next approval posts a new reply
        uow.events.add(c.id, "reply_withdrawn", a.by, {"name": a.name, "reply_id": a.reply_id, **result}, now)
    else:
        draft = Draft(complaint_id=c.id, text=a.text or "", status=DraftStatus.EDITED.value, author=a.by)
        draft.created_at = now
        uow.drafts.add(draft)
        uow.events.add(c.id, "reply_edited", a.by, {"name": a.name, "reply_id": a.reply_id}, now)
    uow.cards.bump(c.id)


def _cut_off(uow: UnitOfWork, row: Outbox, error: str, now: datetime) -> None:
    """A send that may or may not have reached the public: a person checks before any repost."""
    c = _complaint_first(uow, row.complaint_id)
    row.advance(E.CUT_OFF, now)
    row.last_error = error[:2000]
    if c is None:
        return
    payload = _payload(row)
    follow_up = isinstance(payload, Publish) and payload.follow_up
    if follow_up:
        c.advance_follow_up(E.CUT_OFF, now)
    else:
        c.advance(E.CUT_OFF, now)
    data = {"error": error, **({"follow_up": True} if follow_up else {})}
    uow.events.add(c.id, "publish_unconfirmed", "reclaim", data, now)
    uow.cards.bump(c.id)
