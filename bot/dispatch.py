"""The outbox dispatcher: sends and redraws staff cards, manager alerts and public replies in
Telegram, retrying with backoff; a public reply whose send was cut off is never re-sent blindly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.cards import clock, e, keyboard, render, span
from bot.staff import markup
from bot.texts import StaffTexts
from core.inbox import CardView, InboxStore, OutboxItem

log = logging.getLogger("reclaim.outbox")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
BATCH = 20


def message_link(chat_id: int, message_id: int) -> str | None:
    """A t.me link to a message in a supergroup (ids -100…); basic groups have none."""
    text = str(chat_id)
    return f"https://t.me/c/{text[4:]}/{message_id}" if text.startswith("-100") else None


def backoff(attempts: int, base: float = 5.0, cap: float = 900.0) -> timedelta:
    return timedelta(seconds=min(cap, base * 2 ** max(attempts - 1, 0)) * random.uniform(0.8, 1.2))


@dataclass
class Dispatcher:
    bot: Bot
    store: InboxStore
    texts: StaffTexts
    staff_chat_id: int
    alerts_chat_id: int
    zone: ZoneInfo
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    _card_pause_until: datetime | None = None
    _card_failures: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        recovered = await asyncio.to_thread(self.store.recover)
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

    async def _idle(self) -> float:
        due = await asyncio.to_thread(self.store.next_due)
        if due is None:
            return 2.0
        return min(max((due - self.clock()).total_seconds(), 0.05), 2.0)

    async def drain(self) -> bool:
        """One round: cards first (staff see new complaints soonest), then outbox rows."""
        cards: list[tuple[int, int]] = []
        if self._card_pause_until is None or self.clock() >= self._card_pause_until:
            cards = await asyncio.to_thread(self.store.due_cards, BATCH)
        items = await asyncio.to_thread(self.store.claim, BATCH)
        jobs = [self.card(cid, version) for cid, version in cards] + [self.send(item) for item in items]
        if jobs:
            await asyncio.gather(*jobs)
        return len(cards) == BATCH or len(items) == BATCH

    # -- cards ------------------------------------------------------------------------------
    async def card(self, cid: int, version: int) -> None:
        view = await asyncio.to_thread(self.store.card, cid)
        if view is None:
            await asyncio.to_thread(self.store.card_sent, cid, version, None, None)
            return
        text = render(view, self.texts, self.clock(), self.zone)
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
            await asyncio.to_thread(self.store.card_sent, cid, version, None, None)
            self._card_failures = 0
        except BadRequest as exc:  # our own card is malformed: log it and don't loop on it
            log.error("staff card for complaint %d refused by Telegram: %s", cid, exc.message)
            await asyncio.to_thread(self.store.card_sent, cid, version, None, None)
        except (RetryAfter, Forbidden, NetworkError) as exc:
            self._card_failures += 1
            delay = backoff(self._card_failures, base=2.0, cap=300.0)
            if isinstance(exc, RetryAfter):
                delay = max(
                    delay,
                    exc.retry_after if isinstance(exc.retry_after, timedelta) else timedelta(seconds=exc.retry_after),
                )
            self._card_pause_until = self.clock() + delay
            log.warning("staff card %d not delivered (%s); next try in %ds", cid, exc, delay.total_seconds())

    async def _new_card(self, view: CardView, version: int, text: str, buttons: InlineKeyboardMarkup) -> None:
        sent = await self.bot.send_message(
            self.staff_chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=buttons,
            link_preview_options=NO_PREVIEW,
        )
        await asyncio.to_thread(self.store.card_sent, view.id, version, self.staff_chat_id, sent.message_id)
        self._card_failures = 0

    # -- outbox rows ---------------------------------------------------------------------------
    async def send(self, item: OutboxItem) -> None:
        try:
            if item.kind == "alert":
                result = await self._alert(item)
            elif item.kind == "publish":
                result = await self._publish(item)
            else:
                raise ValueError(f"unknown outbox kind {item.kind!r}")
        except RetryAfter as exc:
            wait = exc.retry_after if isinstance(exc.retry_after, timedelta) else timedelta(seconds=exc.retry_after)
            await asyncio.to_thread(self.store.retry, item, f"Telegram flood limit: {exc}", wait)
        except NetworkError as exc:
            # Only a connection that never opened proves nothing reached Telegram.
            if item.kind == "publish" and not isinstance(exc.__cause__, httpx.ConnectError):
                await asyncio.to_thread(self.store.unconfirmed, item, f"no answer from Telegram: {exc}")
            else:
                await asyncio.to_thread(self.store.retry, item, str(exc), backoff(item.attempts))
        except (TelegramError, ValueError, KeyError) as exc:  # a definite refusal: nothing was posted
            log.warning("outbox %s failed: %s", item.key, exc)
            await asyncio.to_thread(self.store.retry, item, str(exc), backoff(item.attempts, base=30.0, cap=3600.0))
        else:
            await asyncio.to_thread(self.store.sent, item, result)
            log.info("outbox %s sent", item.key)

    async def _alert(self, item: OutboxItem) -> dict[str, object]:
        text = await asyncio.to_thread(self.alert_text, item)
        sent = await self.bot.send_message(
            self.alerts_chat_id, text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
        )
        return {"chat_id": self.alerts_chat_id, "message_id": sent.message_id}

    def alert_text(self, item: OutboxItem) -> str:
        t, p = self.texts, item.payload
        reason = str(p.get("reason"))
        if reason == "spike":
            window = span(timedelta(seconds=int(p.get("window_seconds", 3600))), t)
            return e(t.t("alert", "spike", count=p.get("count"), window=window))
        view = self.store.card(item.complaint_id) if item.complaint_id is not None else None
        if view is None:
            return e(f"{reason} #{item.complaint_id}")
        due = clock(view.due, self.clock(), self.zone)
        head = t.t("alert", reason, id=view.id, source=view.source, severity=view.severity, due=due)
        owner = t.t("alert", "owner", owner=view.owner_name) if view.owner_name else t.t("alert", "no_owner")
        lines = [f"<b>{e(head)}</b>", e(owner)]
        link = (
            message_link(view.card_chat_id, view.card_message_id)
            if view.card_message_id and view.card_chat_id
            else None
        )
        if link:
            lines.append(f'<a href="{e(link)}">{e(t.t("alert", "card"))}</a>')
        return "\n".join(lines)

    async def _publish(self, item: OutboxItem) -> dict[str, object]:
        p = item.payload
        if p.get("publisher") != "telegram":
            raise ValueError(f"no automatic publisher {p.get('publisher')!r}")
        origin = p.get("origin") or {}
        chat_id, message_id = int(origin["chat_id"]), int(origin["message_id"])
        sent = await self.bot.send_message(
            chat_id,
            str(p["text"]),
            reply_parameters=ReplyParameters(message_id, allow_sending_without_reply=False),
            link_preview_options=NO_PREVIEW,
        )
        return {"chat_id": chat_id, "message_id": sent.message_id}
