"""`reclaim run`: every source on its own interval with jitter, backoff on failure, clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from reclaim.app import App
from reclaim.poller import Outcome, Poller
from reclaim.settings import Source

log = logging.getLogger("reclaim.run")


class Runner:
    """Owns the scheduler and the poller for the lifetime of `reclaim run`."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.poller = Poller(app)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.stopping = asyncio.Event()
        self.polls = 0
        self.in_flight: set[asyncio.Task[object]] = set()

    async def _poll(self, source: Source) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.in_flight.add(task)
        try:
            outcomes = await self.poller.poll([source])
            self.polls += 1
            self._reschedule(source, outcomes[0])
        finally:
            if task is not None:
                self.in_flight.discard(task)

    def _reschedule(self, source: Source, outcome: Outcome) -> None:
        if outcome.ok:
            log.info(
                "source %s: %s, %d item(s), %d new, %d complaint(s)",
                source.name,
                "not modified" if outcome.not_modified else f"HTTP {outcome.status}",
                outcome.items,
                outcome.added,
                outcome.complaints,
            )
            return
        if outcome.retry_in is not None and outcome.retry_in < source.every:
            job = self.scheduler.get_job(source.name)
            if job is not None:
                job.modify(next_run_time=datetime.now(UTC) + outcome.retry_in)

    def schedule(self) -> None:
        jitter = self.app.settings.polling.jitter.total_seconds()
        now = datetime.now(UTC)
        for source in self.app.settings.sources:
            if not source.enabled:
                continue
            first = now + timedelta(seconds=random.uniform(0, min(jitter, source.every.total_seconds())))
            self.scheduler.add_job(
                self._poll,
                IntervalTrigger(seconds=source.every.total_seconds(), jitter=jitter or None),
                args=[source],
                id=source.name,
                name=f"poll {source.name}",
                next_run_time=first,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(source.every.total_seconds()),
            )

    async def run(self, *, until: asyncio.Event | None = None) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
                loop.add_signal_handler(sig, self.stopping.set)
        self.schedule()
        self.scheduler.start()
        log.info(
            "watching %d source(s); stop with Ctrl-C or SIGTERM",
            sum(1 for s in self.app.settings.sources if s.enabled),
        )
        waiters = [asyncio.ensure_future(self.stopping.wait())]
        if until is not None:
            waiters.append(asyncio.ensure_future(until.wait()))
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for w in waiters:
            w.cancel()
        log.info("stopping: finishing polls in flight")
        self.scheduler.shutdown(wait=False)
        if self.in_flight:
            await asyncio.wait(list(self.in_flight), timeout=60)
        await self.poller.aclose()
        self.app.close()
