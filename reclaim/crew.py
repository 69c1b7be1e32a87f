"""This worker among the others on the journal: its heartbeat, its leadership, and the bot that
runs while it leads (reclaim/workers.py explains the rules; `reclaim run` owns one Crew)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.service import BotService
from reclaim.app import App
from reclaim.workers import GONE, STALE, Leadership, SqliteGuard, sqlite_path, worker_name
from services.alerts import raise_worker_gone
from storage.workers import WorkerBeat, WorkerSeen

log = logging.getLogger("reclaim.run")


class Crew:
    def __init__(self, app: App, make_bot: Callable[[], BotService | None]) -> None:
        self.app = app
        self.make_bot = make_bot
        self.name = worker_name()
        self.host = socket.gethostname()[:255]
        self.started = datetime.now(UTC)
        self.beat_at: datetime | None = None  # the last heartbeat the scheduler ran
        self.leadership = Leadership(app.settings.database.url)  # no journal touched before start()
        self.bot: BotService | None = None  # built while this worker leads
        self.bot_state = "off"  # off, starting, waiting, running, stopped: for /readyz
        self._bot_task: asyncio.Task[bool] | None = None
        self._bot_stop = asyncio.Event()
        self.guard: SqliteGuard | None = None
        self._led = False  # whether the bot was started for our leadership

    @property
    def leading(self) -> bool:
        return self.leadership.leading

    def bot_ok(self) -> bool:
        """The bot runs here and gets Telegram's updates (no failed getUpdates for 30 s)."""
        return self.bot is not None and self.bot_state == "running" and self.bot.receiving()

    def kick(self) -> None:
        """New work in the outbox: the bot sends it now if it runs here (else at the leader's
        next look, within its idle tick)."""
        if self.bot is not None:
            self.bot.kick()

    async def report(self, state: str, detail: str | None, retry_in: float | None) -> None:
        """The bot's state in the journal, for `reclaim status`, `reclaim sources` and /readyz."""
        self.bot_state = state
        now = datetime.now(UTC)
        later = now + timedelta(seconds=retry_in) if retry_in is not None else None

        def write() -> None:
            with self.app.uow() as uow:
                uow.statuses.set("telegram", state, now, detail, later)

        try:
            await self.app.db(write)
        except Exception:
            log.exception("recording the bot's state failed")

    async def _lead(self) -> None:
        """This worker leads now: the bot (Telegram's updates, the outbox) runs here."""
        log.info("worker %s leads: the bot and the once-only jobs run here", self.name)
        if self.leadership.shared:  # what it sends stops the moment the journal names another leader
            self.app.delivery.fence = lambda uow: uow.workers.leads(self.name)
        self.bot = self.make_bot()
        if self.bot is None:
            return
        self._bot_stop = asyncio.Event()  # in the background: an unreachable Telegram holds up nothing else
        self._bot_task = asyncio.create_task(self.bot.start_with_retries(self.report, self._bot_stop), name="bot")

    async def _follow(self) -> None:
        """Not leading (any more): the bot stops here."""
        bot, task, self.bot, self._bot_task = self.bot, self._bot_task, None, None
        if bot is None or task is None:
            return
        self._bot_stop.set()  # also ends its start retries
        await asyncio.wait([task], timeout=15)
        task.cancel()  # a start still talking to Telegram
        try:
            await bot.stop()
        except Exception:
            log.exception("stopping the bot failed")
        await self.report("stopped", None, None)

    def _record_beat(self, leading: bool) -> WorkerSeen | None:
        """This worker's heartbeat, on the journal's clock; returns the leader to cut off when
        it has not beaten for STALE (None: it beats, or we lead)."""
        with self.app.uow() as uow:
            now = uow.workers.clock(datetime.now(UTC))
            me = WorkerBeat(self.name, self.host, os.getpid(), self.started, now, leading, self.leadership.pid)
            rows = uow.workers.beat(me, GONE)
            if leading:  # workers silent for GONE: one alert each, their rows gone
                for w in rows:
                    raise_worker_gone(uow, w.name, w.seen_at, now)
                return None
            leaders = rows
        silent = [w for w in leaders if w.seen_at < now - STALE and w.lock_pid is not None]
        return silent[0] if silent and len(silent) == len(leaders) else None

    async def beat(self) -> None:
        """Every BEAT: lead if nobody does, say we are alive, cut off a leader that went silent."""
        self.beat_at = datetime.now(UTC)
        was = self._led
        leading = await asyncio.to_thread(self.leadership.check)
        try:
            silent = await self.app.db(self._record_beat, leading)
        except Exception as exc:
            log.warning("the heartbeat could not reach the journal (%s)", type(exc).__name__)
            silent = None
        self._led = leading
        if leading and not was:
            await self._lead()
        elif was and not leading:
            log.warning("worker %s no longer leads: the bot stops here", self.name)
            await self._follow()
        if silent is not None and silent.lock_pid is not None:
            await asyncio.to_thread(self.leadership.cut_off, silent.lock_pid, silent.seen_at)

    async def start(self) -> None:
        """Before anything runs: one worker on SQLite; leading at once if nobody else does."""
        path = sqlite_path(self.app.settings.database.url)
        if path is not None:
            self.guard = SqliteGuard(path)
            self.guard.acquire()
        await self.beat()
        if self.app.bot_options() is None:
            log.warning(
                "telegram.token is not set: watching sources only; cards and alerts wait in the journal "
                "and are sent once the bot runs (set TELEGRAM_BOT_TOKEN)"
            )

    async def finish(self) -> None:
        await self._follow()
        try:
            await self.app.db(self._leave)
        except Exception:
            log.exception("leaving the journal's worker list failed")
        await asyncio.to_thread(self.leadership.step_down)
        if self.guard is not None:
            self.guard.release()

    def _leave(self) -> None:
        with self.app.uow() as uow:
            uow.workers.leave(self.name)
