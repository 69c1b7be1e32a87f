"""The bot's life in `reclaim run`: python-telegram-bot's Application (long polling, rate
limits), the staff desk's handlers and the outbox dispatcher, started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, Application, ContextTypes

from bot.customer import CustomerDesk
from bot.dispatch import Dispatcher
from bot.group import GroupWatch
from bot.lane import MentionLane
from bot.staff import StaffDesk
from bot.texts import StaffTexts
from core.outbox import Document, Publisher
from core.ports import DeliveryStore, InThread, MentionStore, StaffStore

log = logging.getLogger("reclaim.bot")
Report = Callable[[str, str | None, float | None], Awaitable[None]]  # (state, detail, retry in s)


@dataclass(frozen=True)
class BotOptions:
    token: str
    staff_chat_id: int
    staff_ids: frozenset[int]
    alerts_chat_id: int
    zone: ZoneInfo
    base_url: str | None = None
    poll_timeout: timedelta = timedelta(seconds=10)
    overall: tuple[int, timedelta] = (30, timedelta(seconds=1))
    per_group: tuple[int, timedelta] = (20, timedelta(minutes=1))
    max_retries: int = 5
    concurrent_updates: int = 16
    causes: tuple[str, ...] = ()  # review.causes, for the root-cause buttons


def even_rate(count: int, per: timedelta) -> tuple[float, float]:
    """aiolimiter's (max_rate, time_period) that never lets more than ``count`` through in any
    window of ``per``: one at a time, evenly spaced (a leaky bucket of N would allow 2N)."""
    seconds = per.total_seconds()
    return 1.0, seconds / max(count - 1, 1) if count > 1 else seconds


def build_application(options: BotOptions) -> Application:  # type: ignore[type-arg]
    overall, group = even_rate(*options.overall), even_rate(*options.per_group)
    limiter = AIORateLimiter(
        overall_max_rate=overall[0],
        overall_time_period=overall[1],
        group_max_rate=group[0],
        group_time_period=group[1],
        max_retries=options.max_retries,
    )
    builder = (
        Application.builder().token(options.token).rate_limiter(limiter).concurrent_updates(options.concurrent_updates)
    )
    if options.base_url:
        base = options.base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    timeout = options.poll_timeout.total_seconds()
    builder = builder.get_updates_read_timeout(timeout + 10).connection_pool_size(64).pool_timeout(30)
    return builder.build()


class BotService:
    """Owns the Application, the desk and the dispatcher for one `reclaim run`."""

    def __init__(
        self,
        options: BotOptions,
        staff: StaffStore,
        delivery: DeliveryStore,
        texts: StaffTexts,
        db: InThread = asyncio.to_thread,
        customer: CustomerDesk | None = None,
        group: GroupWatch | None = None,
        publishers: dict[str, Publisher] | None = None,
        documents: Callable[[Document], tuple[str, bytes, str]] | None = None,
        mask: Callable[[str, str | None], str] | None = None,
        lane: MentionStore | None = None,
    ) -> None:
        self.options = options
        self.application = build_application(options)
        self.dispatcher = Dispatcher(
            self.application.bot,
            delivery,
            texts,
            options.staff_chat_id,
            options.alerts_chat_id,
            options.zone,
            db=db,
            publishers=dict(publishers or {}),
            documents=documents,
        )
        if mask is not None:
            self.dispatcher.mask = mask
        if lane is not None:
            self.dispatcher.lane = lane
            MentionLane(lane, texts, options.staff_ids, self.dispatcher.wake, db=db).register(self.application)
        self.desk = StaffDesk(
            staff,
            texts,
            options.staff_chat_id,
            options.staff_ids,
            self.dispatcher.wake,
            db=db,
            paint=self.dispatcher.card,
            conversations=customer.store if customer else None,
            zone=options.zone,
            causes=list(options.causes),
        )
        self.desk.register(self.application)
        if customer is not None:
            customer.wake, customer.db = self.dispatcher.wake, db
            customer.register(self.application)
        if group is not None:
            group.wake, group.db = self.dispatcher.wake, db
            group.register(self.application)
        self.application.add_error_handler(self._on_error)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.poll_failed_at: float | None = None  # time.monotonic() of the last failed getUpdates

    def kick(self) -> None:
        """New work in the outbox or the card queue: send it now."""
        self.dispatcher.wake.set()

    async def start(self) -> None:
        app = self.application
        await app.initialize()
        me = app.bot
        log.info("bot @%s started; staff chat %s", me.username, self.options.staff_chat_id)
        assert app.updater is not None
        await app.updater.start_polling(
            timeout=int(self.options.poll_timeout.total_seconds()),
            allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
            error_callback=self._on_poll_error,
        )
        await app.start()
        self._task = asyncio.create_task(self.dispatcher.run(self._stop), name="outbox")

    async def start_with_retries(
        self, report: Report, stopping: asyncio.Event, *, first: float = 1.0, cap: float = 300.0
    ) -> bool:
        """Start once Telegram answers and accepts the token, trying again with backoff (1 s,
        2 s … up to 5 min) while it is unreachable or refuses; False if stopped before that.
        What went wrong is said in one line, never with the token (InvalidToken's message has it)."""
        delay = first
        while not stopping.is_set():
            await report("starting", None, None)
            try:
                await self.start()
            except InvalidToken:
                why = "Telegram refused the bot token (TELEGRAM_BOT_TOKEN): check it with @BotFather"
            except NetworkError as exc:
                why = f"Telegram cannot be reached with TELEGRAM_BOT_TOKEN's bot ({type(exc).__name__})"
            except TelegramError as exc:
                why = f"Telegram refused to start the bot ({type(exc).__name__})"
            except Exception as exc:  # whatever it is, the bot must not stop trying unseen
                log.exception("starting the bot failed")
                why = f"starting the bot failed ({type(exc).__name__})"
            else:
                if delay > first:  # it had been waiting: say it is back, at the level the waits were said
                    log.warning("Telegram answers again: the bot is running")
                await report("running", None, None)
                return True
            log.error("%s; trying again in %.0fs (the watchers and the dashboard go on)", why, delay)
            await report("waiting", why, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
            delay = min(delay * 2, cap)
        return False

    async def stop(self) -> None:
        """Stop getting updates at once (another worker may be taking over), then let the
        dispatcher finish the row it is sending."""
        self._stop.set()
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if self._task is not None:
            await asyncio.wait([self._task], timeout=30)
        if app.running:
            await app.stop()
        await app.shutdown()

    def _on_poll_error(self, exc: Exception) -> None:
        self.poll_failed_at = time.monotonic()
        log.warning("getting updates from Telegram failed (retrying): %s", exc)

    def receiving(self, within: float = 30.0) -> bool:
        """Started, and no failed getUpdates in the last ``within`` seconds (for /readyz)."""
        updater = self.application.updater
        running = updater is not None and updater.running
        return running and (self.poll_failed_at is None or time.monotonic() - self.poll_failed_at > within)

    @staticmethod
    async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("a handler failed: %s", context.error, exc_info=context.error)
