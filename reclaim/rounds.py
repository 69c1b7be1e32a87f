"""Which sources this worker polls, and when.

The journal keeps each source's next due time (``source_state.due_at``) and who polls it now
(its lease). Every worker runs one loop: it claims as many due sources as it has free slots
(`polling.concurrency`) in one statement (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), polls them,
and gives each back with the time it is due again: its interval plus up to `polling.jitter`
after this poll began, or sooner or later as a failure's backoff says. So a source is polled
by one worker at a time, a busy worker leaves due sources to idle ones, a restart does not poll
everything at once (the due times are kept), and a worker that dies mid-poll holds its sources
only until their lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from reclaim.app import App
from watchers import REGISTRY, ReadKind, SourceOptions

log = logging.getLogger("reclaim.run")

TICK = 0.5  # seconds between looks for due sources while nothing wakes the loop


class Rounds:
    def __init__(
        self,
        app: App,
        holder: str,
        poll: Callable[[SourceOptions], Awaitable[datetime | None]],
        leading: Callable[[], bool],
    ) -> None:
        self.app, self.holder, self.poll, self.leading = app, holder, poll, leading
        polling = app.settings.polling
        self.sources = {s.name: s for s in REGISTRY.polled(app.settings.sources) if s.enabled}
        # Reddit's budget is counted in one client: only the leader reads through it
        self.leader_only = [n for n, s in self.sources.items() if isinstance(REGISTRY.of(s), ReadKind)]
        self.slots = polling.concurrency
        self.jitter = polling.jitter
        longest = max(
            (s.timeout * (polling.retries + 1) + s.parse_timeout for s in self.sources.values()), default=None
        )
        self.ttl = max(2 * longest, timedelta(minutes=2)) if longest else timedelta(minutes=2)
        self.in_flight: set[asyncio.Task[None]] = set()
        self.wake = asyncio.Event()
        self._failing = False

    def enlist(self) -> None:
        """Every configured source has a due time; a new one is due within the jitter."""
        now = datetime.now(UTC)
        first = {
            name: now + timedelta(seconds=random.uniform(0, min(self.jitter, s.every).total_seconds()))
            for name, s in self.sources.items()
        }
        with self.app.uow() as uow:
            uow.workers.enlist(first)

    def claim(self, limit: int) -> list[str]:
        leader_only = [] if self.leading() else self.leader_only
        with self.app.uow() as uow:
            return uow.workers.claim_due(self.holder, datetime.now(UTC), limit, self.ttl, leader_only)

    def release(self, name: str, due: datetime | None) -> None:
        with self.app.uow() as uow:
            uow.workers.release(name, self.holder, due)

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            free = self.slots - len(self.in_flight)
            names = await self._claim(free) if free > 0 else []
            for name in names:
                source = self.sources.get(name)
                if source is None:  # no longer in the config (or disabled): parked until it is again
                    await self.app.db(self.release, name, None)
                    continue
                task = asyncio.create_task(self._one(source), name=f"poll {name}")
                self.in_flight.add(task)
            if names and len(names) == free:
                continue  # more may be due
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), TICK)

    async def _claim(self, free: int) -> list[str]:
        try:
            names = await self.app.db(self.claim, free)
        except Exception as exc:  # the journal is away: try again at the next tick, said once
            if not self._failing:
                log.warning("cannot claim due sources (%s): trying again every %.1f s", type(exc).__name__, TICK)
            self._failing = True
            return []
        if self._failing:
            log.warning("the journal answers again: polling goes on")
        self._failing = False
        return list(names)

    async def _one(self, source: SourceOptions) -> None:
        started = datetime.now(UTC)
        due: datetime | None = None
        try:
            due = await self.poll(source)
        finally:
            if due is None:
                due = started + source.every + timedelta(seconds=random.uniform(0, self.jitter.total_seconds()))
            try:
                await self.app.db(self.release, source.name, due)
            except Exception:  # the lease runs out by itself
                log.exception("source %s: giving its lease back failed", source.name)
            task = asyncio.current_task()
            if task is not None:
                self.in_flight.discard(task)
            self.wake.set()

    async def finish(self, timeout: float = 60) -> None:
        """Polls in flight end (each within its timeouts); no new one starts."""
        if self.in_flight:
            await asyncio.wait(list(self.in_flight), timeout=timeout)
