"""Seeing that it is alive, on the web port: /healthz (the process answers), /readyz (journal
reachable, scheduler ticking, bot connected, no poll overdue) and /metrics for Prometheus.

None of them needs a login and none shows a complaint, a name or a secret: only counts, ages
and source names (which are in config.yaml). Put the port behind the same firewall as the
dashboard; /metrics and /readyz are for the monitoring, not for the public.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from prometheus_client import REGISTRY, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from reclaim.app import App
from reclaim.poller import Outcome
from reclaim.workers import BEAT
from storage import metrics as journal
from watchers import REGISTRY as KINDS

POLLS = Counter("reclaim_polls_total", "Polls by source and outcome (ok, not_modified, failed)", ["source", "outcome"])
NEW = Counter("reclaim_ingested_total", "New mentions and complaints by source", ["source", "what"])
MENTIONS = Counter(
    "reclaim_mentions_total", "New mentions by triage kind (complaint, question, praise, other)", ["kind"]
)
TIMEOUT = 5.0  # seconds a check may take before it counts as failed
SLACK = timedelta(seconds=30)  # a poll later than its interval and jitter by this is overdue


def count_poll(outcome: Outcome) -> None:
    state = "failed" if not outcome.ok else "not_modified" if outcome.not_modified else "ok"
    POLLS.labels(outcome.source, state).inc()
    if outcome.added:
        NEW.labels(outcome.source, "mentions").inc(outcome.added)
    if outcome.complaints:
        NEW.labels(outcome.source, "complaints").inc(outcome.complaints)
    for kind, n in outcome.kinds:
        MENTIONS.labels(kind).inc(n)


class Pulse(Protocol):
    """What `reclaim run` tells about itself (reclaim/crew.py:Crew)."""

    name: str
    started: datetime
    beat_at: datetime | None  # the last heartbeat the scheduler ran
    bot_state: str

    @property
    def leading(self) -> bool: ...

    def bot_ok(self) -> bool: ...


class Health:
    def __init__(self, app: App, pulse: Pulse | None) -> None:
        self.app, self.pulse = app, pulse
        self.registry = CollectorRegistry(auto_describe=False)
        self.collector = JournalCollector(app)
        self.registry.register(self.collector)

    def routes(self) -> list[Route]:
        return [Route("/healthz", self.healthz), Route("/readyz", self.readyz), Route("/metrics", self.metrics)]

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def _journal(self, fn: Any, *args: Any) -> Any:
        def run() -> Any:
            with self.app.sessions() as session:
                return fn(session, *args)

        return await asyncio.wait_for(self.app.db(run), TIMEOUT)

    async def readyz(self, request: Request) -> Response:
        checks: dict[str, dict[str, Any]] = {}
        now = datetime.now(UTC)
        try:
            due = await self._journal(journal.due)
            checks["journal"] = {"ok": True}
        except Exception as exc:
            due = None
            checks["journal"] = {"ok": False, "detail": f"not reachable ({type(exc).__name__})"}
        pulse = self.pulse
        if pulse is not None:
            beat = pulse.beat_at
            ticking = beat is not None and now - beat < 3 * BEAT + timedelta(seconds=5)
            checks["scheduler"] = {"ok": ticking, "last_beat": beat.isoformat() if beat else None}
            if self.app.bot_options() is not None:
                running = not pulse.leading or pulse.bot_ok()
                state = pulse.bot_state if running else f"{pulse.bot_state}, but not receiving Telegram's updates"
                checks["bot"] = {"ok": running, "state": state if pulse.leading else "another worker leads"}
            checks["polls"] = self._polls(due, now, pulse.started)
        ready = all(c["ok"] for c in checks.values())
        body = {"ready": ready, "worker": pulse.name if pulse else None, "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    def _polls(self, due: dict[str, datetime | None] | None, now: datetime, started: datetime) -> dict[str, Any]:
        """The oldest due poll: overdue when later than its interval, the jitter and SLACK."""
        if due is None:
            return {"ok": False, "detail": "unknown: the journal is not reachable"}
        jitter = self.app.settings.polling.jitter
        late: list[tuple[float, str]] = []
        for source in KINDS.polled(self.app.settings.sources):
            when = due.get(source.name) or started + source.every
            if source.enabled and now - max(when, started) > jitter + SLACK:
                late.append(((now - when).total_seconds(), source.name))
        late.sort(reverse=True)
        if not late:
            return {"ok": True}
        return {"ok": False, "overdue": len(late), "oldest": late[0][1], "seconds": round(late[0][0])}

    async def metrics(self, request: Request) -> Response:
        mine = await asyncio.get_running_loop().run_in_executor(None, generate_latest, REGISTRY)
        try:
            snap = await self._journal(journal.snapshot, datetime.now(UTC), 3 * BEAT + timedelta(seconds=5))
        except Exception:
            snap = None
        self.collector.snap = snap
        theirs = await asyncio.get_running_loop().run_in_executor(None, generate_latest, self.registry)
        return Response(mine + theirs, media_type="text/plain; version=0.0.4; charset=utf-8")


class JournalCollector(Collector):
    """The journal's side, read at each scrape: complaints, outbox depth and age, first-response
    time, workers and their leases, the Reddit budget."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.snap: journal.Snapshot | None = None

    def collect(self) -> Iterator[Metric]:
        snap = self.snap
        up = GaugeMetricFamily("reclaim_journal_up", "1 when the journal answered this scrape")
        up.add_metric([], 1.0 if snap is not None else 0.0)
        yield up
        if snap is not None:
            yield from _journal_metrics(snap)
        yield from _reddit_metrics(self.app)


def _journal_metrics(snap: journal.Snapshot) -> Iterator[Metric]:
    g = GaugeMetricFamily(
        "reclaim_complaints", "Complaints in the journal by kind and status", labels=["kind", "status"]
    )
    for (kind, status), n in sorted(snap.complaints.items()):
        g.add_metric([kind, status], n)
    yield g
    depth = GaugeMetricFamily("reclaim_outbox_pending", "Outbox rows waiting to be sent, by kind", labels=["kind"])
    age = GaugeMetricFamily("reclaim_outbox_oldest_seconds", "Age of the oldest waiting row, by kind", labels=["kind"])
    for kind, (n, oldest) in sorted(snap.outbox.items()):
        depth.add_metric([kind], n)
        age.add_metric([kind], oldest)
    yield depth
    yield age
    first = GaugeMetricFamily(
        "reclaim_first_response_seconds", "First public answer after detection, last 7 days", labels=["quantile"]
    )
    for q in (0.5, 0.9):
        if snap.first_response:
            first.add_metric([str(q)], _quantile(snap.first_response, q))
    yield first
    workers = GaugeMetricFamily(
        "reclaim_worker_leases", "Source leases held by each live worker", labels=["worker", "leading"]
    )
    for name, (leading, leases) in sorted(snap.workers.items()):
        workers.add_metric([name, str(leading).lower()], leases)
    yield workers


def _reddit_metrics(app: App) -> Iterator[Metric]:
    """Our own Reddit budget (watchers/reddit_api.py:BudgetSession), once a source made the client."""
    client = app.__dict__.get("reddit")
    budget = getattr(client, "session", None)
    if budget is None:
        return
    used = GaugeMetricFamily("reclaim_reddit_requests_last_minute", "Reddit API requests in the last minute")
    used.add_metric([], float(len(budget.sent)))
    cap = GaugeMetricFamily(
        "reclaim_reddit_budget_per_minute", "Reddit API requests allowed per minute (reddit.budget)"
    )
    cap.add_metric([], float(budget.per_minute))
    total = CounterMetricFamily("reclaim_reddit_requests", "Reddit API requests since start")
    total.add_metric([], float(budget.total))
    yield from (used, cap, total)


def _quantile(values: list[float], q: float) -> float:
    return values[min(int(q * len(values)), len(values) - 1)]
