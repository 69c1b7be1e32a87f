"""The outbox dispatcher: sends and redraws staff cards, manager alerts and public replies in
Telegram, retrying with backoff; a public reply whose send was cut off is never re-sent blindly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import senders
from bot.cards import Keyboard, keyboard, render
from bot.metrics import SEND_SECONDS, TELEGRAM_429
from bot.texts import StaffTexts
from core import durations
from core.outbox import Document, OutboxItem, OutboxKind, Publisher, PublishRefused, PublishRetry
from core.ports import CardView, DeliveryStore, InThread, MentionStore

log = logging.getLogger("reclaim.outbox")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
BATCH = 20


def markup(rows: Keyboard) -> InlineKeyboardMarkup:
    """A card's buttons as Telegram's inline keyboard."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows])


def backoff(attempts: int, base: float = 5.0, cap: float = 900.0) -> timedelta:
    """How long a row waits after ``attempts`` failed sends (±20 %, so a queue does not return at once)."""
    return timedelta(seconds=durations.backoff(attempts, base, cap, jitter=0.2))


@dataclass
class Dispatcher:
    bot: Bot
    store: DeliveryStore
    texts: StaffTexts
    staff_chat_id: int
    alerts_chat_id: int
    zone: ZoneInfo
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    db: InThread = asyncio.to_thread
    _card_pause_until: datetime | None = None
    _card_locks: dict[int, tuple[asyncio.Lock, list[int]]] = field(default_factory=dict)  # lock, users
    _drawn: dict[int, int] = field(default_factory=dict)  # card versions drawn by this process
    _marks: dict[int, int] = field(default_factory=dict)  # drawn, not yet written to the journal
    _flush: asyncio.Task[None] | None = None
    _card_failures: int = 0
    publishers: dict[str, Publisher] = field(default_factory=dict)  # besides "telegram", which is ours
    # (text, language) → the text with profanity masked, for the excerpts in managers' alerts
    mask: Callable[[str, str | None], str] = lambda text, _language: text
    # a document for the managers' chat from an outbox payload: (file name, bytes, caption)
    documents: Callable[[Document], tuple[str, bytes, str]] | None = None
    lane: MentionStore | None = None  # the mentions lane's cards

    async def run(self, stop: asyncio.Event) -> None:
        recovered = await self.db(self.store.recover, frozenset(self.publishers))
        if recovered:
            log.warning("%d outgoing message(s) were cut off by the last stop; handled after restart", recovered)
        while not stop.is_set():
            self.wake.clear()
            try:
                busy = await self.drain()
            except Exception:  # the loop must outlive any one failure; the row stays queued
                log.exception("outbox dispatcher error")
                busy = False
            if busy:
                continue
            with contextlib.suppress(TimeoutError):
                waiters = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
                try:
                    await asyncio.wait(waiters, timeout=await self._idle(), return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for w in waiters:
                        w.cancel()
        await self.flush_marks()

    async def _idle(self) -> float:
        due = await self.db(self.store.next_due)
        if due is None:
            return 2.0
        return min(max((due - self.clock()).total_seconds(), 0.05), 2.0)

    async def drain(self) -> bool:
        """One round: cards first (staff see new complaints soonest), then outbox rows."""
        await self.flush_marks()
        cards: list[tuple[int, int]] = []
        if self._card_pause_until is None or self.clock() >= self._card_pause_until:
            cards = await self.db(self.store.due_cards, BATCH)
        if cards:  # before the alerts, so their links can point at the cards
            await asyncio.gather(*(self.card(cid, version) for cid, version in cards))
        items = await self.db(self.store.claim, BATCH)  # claimed only when about to be sent
        if items:
            await asyncio.gather(*(self.send(item) for item in items))
        # a row sent changes its card (published, edited, withdrawn): another round draws it now
        return len(cards) == BATCH or bool(items)

    # -- cards ------------------------------------------------------------------------------
    async def card(self, cid: int, version: int, view: CardView | None = None) -> None:
        """Draw card ``cid`` at ``version`` (``view`` when the caller has it already). One draw
        per card at a time; a version already drawn, or older than one drawn, is skipped, so
        concurrent redraws never leave an older card showing."""
        entry = self._card_locks.setdefault(cid, (asyncio.Lock(), [0]))
        entry[1][0] += 1
        try:
            async with entry[0]:
                if self._drawn.get(cid, 0) >= version:
                    return
                if view is None or view.card_message_id is None:
                    # A caller's view may predate the card's first send, made while it waited for
                    # this lock: read again, or the card would be sent a second time.
                    view = await self.db(self.store.card, cid)
                await self._draw(cid, version, view)
        finally:
            entry[1][0] -= 1
            if not entry[1][0]:
                del self._card_locks[cid]

    async def _draw(self, cid: int, version: int, view: CardView | None) -> None:
        if view is None:
            await self._drawn_at(cid, version)
            return
        text = render(view, self.texts, self.clock(), self.zone, f"https://t.me/{self.bot.username}?start=")
        buttons = markup(keyboard(view, self.texts))
        try:
            if view.card_message_id is None or view.card_chat_id != self.staff_chat_id:
                await self._new_card(view, version, text, buttons)
                return
            try:
                await self.bot.edit_message_text(
                    text, self.staff_chat_id, view.card_message_id, parse_mode=ParseMode.HTML,
                    reply_markup=buttons, link_preview_options=NO_PREVIEW,
                )  # fmt: skip
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    pass
                elif "not found" in exc.message.lower():
                    await self._new_card(view, version, text, buttons)
                    return
                else:
                    raise
            await self._drawn_at(cid, version)
            self._card_failures = 0
        except BadRequest as exc:  # our own card is malformed: log it and don't loop on it
            log.error("staff card for complaint %d refused by Telegram: %s", cid, exc.message)
            await self._drawn_at(cid, version)
        except (RetryAfter, Forbidden, NetworkError) as exc:
            self._card_failures += 1
            delay = backoff(self._card_failures, base=2.0, cap=300.0)
            if isinstance(exc, RetryAfter):
                TELEGRAM_429.inc()
                delay = max(
                    delay,
                    exc.retry_after if isinstance(exc.retry_after, timedelta) else timedelta(seconds=exc.retry_after),
                )
            self._card_pause_until = self.clock() + delay
            log.warning("staff card %d not delivered (%s); next try in %ds", cid, exc, delay.total_seconds())

    async def _drawn_at(
        self, cid: int, version: int, chat_id: int | None = None, message_id: int | None = None
    ) -> None:
        if len(self._drawn) > 50_000:  # forget the oldest half; the journal keeps the truth
            for old in list(self._drawn)[:25_000]:
                del self._drawn[old]
        self._drawn[cid] = max(self._drawn.get(cid, 0), version)
        if message_id is not None:  # a new card: its message id must be kept before anything else
            await self.db(self.store.card_sent, cid, version, chat_id, message_id)
            return
        # A redraw is written in batches: losing one to a crash only means drawing it again.
        self._marks[cid] = max(self._marks.get(cid, 0), version)
        if self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self.flush_marks(delay=0.05))

    async def flush_marks(self, delay: float = 0.0) -> None:
        """Write the redraws made since the last flush to the journal."""
        if delay:
            await asyncio.sleep(delay)
        marks, self._marks = self._marks, {}
        if not marks:
            return
        try:
            await self.db(self.store.cards_drawn, marks)
        except Exception:
            log.exception("could not record %d redrawn card(s); trying again", len(marks))
            for cid, version in marks.items():
                self._marks[cid] = max(self._marks.get(cid, 0), version)

    async def _new_card(self, view: CardView, version: int, text: str, buttons: InlineKeyboardMarkup) -> None:
        sent = await self.bot.send_message(
            self.staff_chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=buttons,
            link_preview_options=NO_PREVIEW,
        )
        await self._drawn_at(view.id, version, self.staff_chat_id, sent.message_id)
        self._card_failures = 0

    # -- outbox rows ---------------------------------------------------------------------------
    async def send(self, item: OutboxItem) -> None:
        """Send one claimed row by its kind's sender (bot/senders.py) and record what happened."""
        started = time.perf_counter()
        try:
            result = await senders.send(self, item)
        except PublishRetry as exc:
            log.warning("outbox %s: %s (again in %s)", item.key, exc, exc.delay)
            await self.db(self.store.retry, item, str(exc), exc.delay, True)
        except PublishRefused as exc:
            log.warning("outbox %s refused: %s", item.key, exc)
            await self.db(self.store.refused, item, str(exc))
        except RetryAfter as exc:
            TELEGRAM_429.inc()
            wait = exc.retry_after if isinstance(exc.retry_after, timedelta) else timedelta(seconds=exc.retry_after)
            await self.db(self.store.retry, item, f"Telegram flood limit: {exc}", wait, True)
        except NetworkError as exc:
            # Only a connection that never opened proves nothing reached Telegram.
            if item.kind is OutboxKind.PUBLISH and not isinstance(exc.__cause__, httpx.ConnectError):
                await self.db(self.store.unconfirmed, item, f"no answer from Telegram: {exc}")
            else:
                await self.db(self.store.retry, item, str(exc), backoff(item.attempts), True)
        except (BadRequest, Forbidden) as exc:  # a definite refusal (blocked, no such chat): not retried
            log.warning("outbox %s refused by Telegram: %s", item.key, exc)
            await self.db(self.store.failed, item, str(exc))
        except TelegramError as exc:  # refused as it stands; tried a bounded number of times more
            log.warning("outbox %s failed: %s", item.key, exc)
            await self.db(self.store.retry, item, str(exc), backoff(item.attempts, base=30.0, cap=3600.0))
        except (ValueError, KeyError, TypeError) as exc:  # a payload that cannot be sent: no retry helps
            log.error("outbox %s cannot be sent: %r", item.key, exc)
            await self.db(self.store.failed, item, f"cannot be sent: {exc}")
        else:
            SEND_SECONDS.labels(item.kind.value).observe(time.perf_counter() - started)
            await self.db(self.store.sent, item, result)
            log.info("outbox %s sent", item.key)
