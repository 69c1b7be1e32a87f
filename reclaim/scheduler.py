"""`reclaim run`: every source on its own interval with jitter, backoff on failure, clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.group import GroupWatch
from bot.service import BotService
from core.model import RawMention
from core.outbox import Document, Publisher
from core.review import previous_month
from reclaim.app import App
from reclaim.crew import Crew
from reclaim.health import count_poll
from reclaim.poller import Outcome, Poller, ingest_now
from reclaim.rounds import Rounds
from reclaim.workers import BEAT
from responders.publishing import RedditPublisher
from services.alerts import check_stall, raise_deadline_alerts, raise_spike_alert
from services.promises import check_promises
from watchers import REGISTRY, PushKind, SourceOptions

log = logging.getLogger("reclaim.run")


class Runner:
    """Owns the scheduler and the poller for the lifetime of `reclaim run`."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.poller = Poller(app)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.stopping = asyncio.Event()
        self.polls = 0
        self._reviewed: str | None = None  # the month whose review this worker queued
        self.web: Any = None  # the dashboard's server while it runs
        self.options = app.bot_options()
        self.crew = Crew(app, self._make_bot)
        self.rounds = Rounds(app, self.crew.name, self._poll, lambda: self.crew.leading)
        self.started = self.crew.started

    def _make_bot(self) -> BotService | None:
        app, options = self.app, self.options
        return (
            BotService(
                options,
                app.inbox,
                app.delivery,
                app.staff_texts,
                app.db,
                app.customer_desk(),
                group=self._groups(),
                publishers=self._publishers(),
                documents=app.review_document,
                mask=app.triager.mask_profanity,
                lane=app.mentions,
            )
            if options
            else None
        )

    def _groups(self) -> GroupWatch:
        """The chats pushed kinds watch through the bot, each with its source's message reader."""
        chats: dict[int, tuple[str, Callable[[Mapping[str, Any]], RawMention | None]]] = {}
        for s in self.app.settings.sources:
            kind = REGISTRY.of(s)
            if s.enabled and isinstance(kind, PushKind):
                chats.update((chat, (s.name, functools.partial(kind.to_mention, s))) for chat in s.telegram_chats())
        return GroupWatch(chats, functools.partial(ingest_now, self.app))

    def _publishers(self) -> dict[str, Publisher]:
        reddit = self.app.reddit
        return {"reddit": RedditPublisher(reddit, self.app.reddit_thread)} if reddit is not None else {}

    async def _poll(self, source: SourceOptions) -> datetime | None:
        """One poll of a source this worker holds (reclaim/rounds.py); when it is due again if
        not after its interval (a failure's backoff)."""
        outcomes = await self.poller.poll([source])
        count_poll(outcomes[0])
        self.polls += 1
        if outcomes[0].complaints:
            self.crew.kick()
        return self._reschedule(source, outcomes[0])

    def _reschedule(self, source: SourceOptions, outcome: Outcome) -> datetime | None:
        """Log the outcome; a failure is due again after its backoff (None: after the interval)."""
        if outcome.ok:
            log.info(
                "source %s: %s, %d item(s), %d new, %d complaint(s)",
                source.name,
                "not modified" if outcome.not_modified else f"HTTP {outcome.status}",
                outcome.items,
                outcome.added,
                outcome.complaints,
            )
            return None
        return datetime.now(UTC) + outcome.retry_in if outcome.retry_in is not None else None

    def _late(self, polled: Mapping[str, datetime | None], now: datetime) -> list[str]:
        """Sources not polled for twice their interval (counted from this worker's start at the
        earliest: a cluster that was down is not "stalled" before it had a chance)."""
        late = []
        for source in REGISTRY.polled(self.app.settings.sources):
            last = max(polled.get(source.name) or self.started, self.started)
            if source.enabled and now - last > 2 * source.every + self.app.settings.polling.jitter:
                late.append(source.name)
        return late

    def check_alerts(self) -> int:
        """Queue alerts for missed first-response deadlines, spikes and a stall (each raised once)."""
        spike = self.app.settings.alerts.spike
        now = datetime.now(UTC)
        with self.app.uow() as uow:
            raised = raise_deadline_alerts(uow, now)
            raised += int(raise_spike_alert(uow, now, count=spike.count, window=spike.window))
            raised += int(check_stall(uow, now, self._late(uow.workers.polled(), now)) is not None)
        with self.app.uow() as uow:
            return raised + check_promises(uow, self.app.playbook, datetime.now(UTC))

    async def _check_alerts(self) -> None:
        if not self.crew.leading:
            return
        try:
            raised = await self.app.db(self.check_alerts)
        except Exception:
            log.exception("checking deadlines failed; trying again at the next check")
            return
        if raised:
            log.info("%d manager alert(s) queued", raised)
            self.crew.kick()

    def purge(self) -> None:
        """The retention purge: finished complaints older than `retention` are anonymised."""
        with self.app.uow() as uow:
            done = uow.privacy.purge(datetime.now(UTC), self.app.settings.retention)
        if done.anonymised or done.mentions_deleted:
            log.info(
                "retention: anonymised %d complaint(s), deleted %d mention(s)", done.anonymised, done.mentions_deleted
            )

    async def _purge(self) -> None:
        if not self.crew.leading:
            return
        try:
            await self.app.db(self.purge)
        except Exception:
            log.exception("the retention purge failed; trying again tomorrow")

    def retrain(self) -> None:
        """Train the triage again when enough new labels came since the last training."""
        learn = self.app.settings.triage.learn
        if self.app.learning.due(learn.min_new):
            self.app.learning.train(datetime.now(UTC))

    async def _retrain(self) -> None:
        if not self.crew.leading:
            return
        try:  # a thread of its own: training takes seconds and must not hold the journal's thread
            await asyncio.to_thread(self.retrain)
        except Exception:
            log.exception("training the triage failed; the model that decided still decides")

    def queue_review(self, month: str | None = None) -> bool:
        """Queue the monthly review (last month's by default) for the managers' chat, once."""
        now = datetime.now(self.app.zone)
        month = month or previous_month(now)
        with self.app.uow() as uow:
            queued = uow.outbox.add(f"review:{month}", Document(month), None, datetime.now(UTC))
        if queued:
            log.info("the review of %s is queued for the managers' chat", month)
            self.crew.kick()
        return queued

    async def _queue_review(self) -> None:
        """Each minute, on the leader: on the 1st from `review.send_at` on, last month's review
        is queued (once: its outbox key), whichever worker leads then and however often it
        changed, and the same day after a stop over the time."""
        if not self.crew.leading:
            return
        now = datetime.now(self.app.zone)
        hour, minute = (int(p) for p in self.app.settings.review.send_at.split(":"))
        if now.day != 1 or (now.hour, now.minute) < (hour, minute) or self._reviewed == previous_month(now):
            return
        try:
            await self.app.db(self.queue_review)
            self._reviewed = previous_month(now)
        except Exception:
            log.exception("queueing the monthly review failed; trying again in a minute")

    async def _publish_by_policy(self) -> None:
        if self.app.policy is None or not self.crew.leading:
            return
        try:
            published = await self.app.db(self.app.policy.run)
        except Exception:
            log.exception("publishing by policy failed; trying again at the next check")
            return
        if published:
            self.crew.kick()

    def _schedule_policy(self) -> None:
        """respond.auto_publish: look for replies that waited long enough, often enough that
        none waits much past its delay (a tenth of the shortest, between 1 and 30 seconds)."""
        policy = self.app.policy
        if policy is None:
            return
        if self.options is None:  # nothing would send them: approvals would pile up and go out late
            log.warning("respond.auto_publish needs the bot (telegram.token): nothing is published by policy")
            return
        every = min(max(policy.policy.shortest.total_seconds() / 10, 1.0), 30.0)
        self.scheduler.add_job(
            self._publish_by_policy,
            IntervalTrigger(seconds=every),
            id="policy",
            name="replies published by policy",
            next_run_time=datetime.now(UTC) + timedelta(seconds=every),
            max_instances=1,
            coalesce=True,
        )

    def _schedule_learning(self) -> None:
        learn = self.app.settings.triage.learn
        if learn.enabled:
            self.scheduler.add_job(
                self._retrain,
                IntervalTrigger(seconds=learn.every.total_seconds()),
                id="learn",
                name="triage training",
                next_run_time=datetime.now(UTC) + timedelta(minutes=2),
                max_instances=1,
                coalesce=True,
            )

    def schedule(self) -> None:
        if self.app.settings.review.send_monthly:
            self.scheduler.add_job(
                self._queue_review, IntervalTrigger(minutes=1), id="review", name="monthly review",
                next_run_time=datetime.now(UTC) + timedelta(seconds=30), max_instances=1, coalesce=True,
            )  # fmt: skip
        self.scheduler.add_job(
            self._purge,
            IntervalTrigger(days=1),
            id="purge",
            name="retention purge",
            next_run_time=datetime.now(UTC) + timedelta(minutes=1),
            max_instances=1,
            coalesce=True,
        )
        self._schedule_learning()
        self._schedule_policy()
        every = self.app.settings.alerts.check_every.total_seconds()
        self.scheduler.add_job(
            self._check_alerts,
            IntervalTrigger(seconds=every),
            id="alerts",
            name="deadlines and spikes",
            next_run_time=datetime.now(UTC) + timedelta(seconds=min(every, 5)),
            max_instances=1,
            coalesce=True,
        )

    async def run(self, *, until: asyncio.Event | None = None) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
                loop.add_signal_handler(sig, self.stopping.set)
        web_task = None
        if self.app.settings.web.enabled:
            from reclaim.web import server
            from reclaim.web_server import bind

            sock = bind(self.app.settings.web)  # a taken port stops us here, before anything started
            self.web = server(self.app, pulse=self.crew)
            web_task = asyncio.create_task(self.web.serve(sockets=[sock]), name="web")
        await self.crew.start()
        self.scheduler.add_job(
            self.crew.beat, IntervalTrigger(seconds=BEAT.total_seconds()), id="beat", name="heartbeat",
            max_instances=1, coalesce=True,
        )  # fmt: skip
        await self.app.db(self.rounds.enlist)
        self.schedule()
        self.scheduler.start()
        polling = asyncio.create_task(self.rounds.run(self.stopping), name="polling")
        if web_task is not None:
            log.info("dashboard on http://%s", self.app.settings.web.listen)
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
        self.stopping.set()
        log.info("stopping: finishing polls in flight")
        self.scheduler.pause()  # no new polls; the scheduler's shutdown would cancel those running
        await asyncio.wait([polling], timeout=5)
        await self.rounds.finish()  # each ends within its source's timeout and parse_timeout
        self.scheduler.shutdown(wait=False)
        await self.crew.finish()
        if web_task is not None and self.web is not None:
            self.web.should_exit = True
            await asyncio.wait([web_task], timeout=10)
        await self.poller.aclose()
        self.app.close()
