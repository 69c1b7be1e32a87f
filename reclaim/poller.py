"""One poll of some sources: fetch concurrently, then parse → triage → store → draft per source.

Fetches overlap; parsing and journal writes run one at a time on a single worker thread, so
SQLite never sees two writers and the event loop stays free. A source that fails, in any
way, is recorded with its error and backoff and never stops the others.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from core.model import RawMention
from reclaim import prepare as prep
from reclaim.app import App
from services import ingest
from watchers import REGISTRY, Fetched, FetchError, FetchKind, ReadKind, SourceOptions
from watchers.base import ParseTimeout
from watchers.http import fetch_with_retries, make_client

log = logging.getLogger("reclaim.poll")
COALESCE = 0.02  # seconds a write of 304s waits for more (PostgreSQL: each transaction is round trips)


@dataclass
class Outcome:
    source: str
    ok: bool
    status: int | None = None
    items: int = 0
    added: int = 0
    complaints: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    retry_in: timedelta | None = None
    seconds: float = 0.0
    complaint_ids: tuple[int, ...] = ()
    kinds: tuple[tuple[str, int], ...] = ()  # new mentions by triage kind

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def worker_count(app: App) -> int:
    """How many parse/triage processes a poll uses (polling.workers; by default the CPUs, at most 4)."""
    workers = app.settings.polling.workers
    return min(os.cpu_count() or 1, 4) if workers is None else workers


def fork_workers(app: App) -> Executor | None:
    """The worker processes for a one-off poll (`poll --once`), forked at once from this process
    while it has no other thread and no event loop yet: they start with every module already
    imported, instead of spending a second each importing them as fresh interpreters would, and
    they start while this process reads the journal and makes its first requests. None where
    forking is not safe or not available (the Poller then starts fresh interpreters when needed)."""
    count = worker_count(app)
    if count <= 0 or threading.active_count() > 1 or not sys.platform.startswith("linux"):
        return None  # (macOS has fork, but its system libraries are not safe across one)
    pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context("fork"),
        initializer=prep.init,
        initargs=(app.settings, REGISTRY.classes()),
    )
    pool.submit(os.getpid)  # forks every worker now, before the executor's own thread starts
    log.debug("%d parse worker(s) forked", count)
    return pool


class Poller:
    """Polls sources for an App; reuse one Poller (its HTTP client and writer thread) across polls."""

    def __init__(self, app: App, client: httpx.AsyncClient | None = None, workers: Executor | None = None) -> None:
        """``workers``: processes already started (fork_workers), which this Poller then owns."""
        self.app = app
        self._own_client = client is None
        self.client = client or make_client(app.user_agent, max_connections=app.settings.polling.concurrency * 2)
        self._writer = app.db.pool  # shared with the bot: one SQLite writer thread per process
        self._worker_count = worker_count(app)
        self._workers: Executor | None = workers
        self._unchanged: list[Outcome] = []  # 304s waiting for their write (_not_modified)
        self._flushing: asyncio.Future[None] | None = None

    def _pool(self) -> Executor | None:  # a fresh interpreter each: this process has threads by now
        """The worker processes, started on first need (a poll of 304s never starts them; `poll
        --once` forks its own beforehand, fork_workers)."""
        if self._workers is None and self._worker_count > 0:
            self._workers = ProcessPoolExecutor(
                max_workers=self._worker_count,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=prep.init,
                initargs=(self.app.settings, REGISTRY.classes()),
            )
        return self._workers

    async def warm_up(self) -> None:
        """Start the worker processes now rather than on the first changed document."""
        pool = self._pool()
        if pool is not None:
            loop = asyncio.get_running_loop()
            await asyncio.gather(*(loop.run_in_executor(pool, os.getpid) for _ in range(self._worker_count)))

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()
        if self._workers is not None:
            self._workers.shutdown(wait=True, cancel_futures=True)

    async def _prepare(self, source: SourceOptions, fetched: Fetched) -> prep.Prepared:
        """Parse and triage in a worker process (or on the writer thread when workers = 0)."""
        loop = asyncio.get_running_loop()
        pool = self._pool()
        if pool is None:
            return await loop.run_in_executor(self._writer, prep.prepare_with, self.app, source.name, fetched)
        return await loop.run_in_executor(pool, prep.prepare, source.name, fetched)

    async def _in_writer(self, fn: Callable[[], object]) -> object:
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn)

    def _validators(self, names: list[str]) -> dict[str, tuple[str | None, str | None]]:
        with self.app.uow() as uow:
            return uow.sources.validators(names)

    async def poll(
        self, sources: Sequence[SourceOptions], on_done: Callable[[Outcome], None] | None = None
    ) -> list[Outcome]:
        polled = REGISTRY.polled(sources)
        validators = await self._in_writer(functools.partial(self._validators, [s.name for s in polled]))
        assert isinstance(validators, dict)
        sem = asyncio.Semaphore(self.app.settings.polling.concurrency)

        async def one(source: SourceOptions) -> Outcome:
            outcome = await self._poll_one(source, validators.get(source.name, (None, None)), sem)
            if on_done is not None:
                on_done(outcome)
            return outcome

        return list(await asyncio.gather(*(one(s) for s in polled)))

    async def _not_modified(self, outcome: Outcome) -> Outcome:
        """A 304's health, written with the others that came while the writer was busy: one write
        for many rather than a transaction each, yet each before its source's poll is done (a poll
        stopped half-way keeps what it had)."""
        self._unchanged.append(outcome)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.ensure_future(self._flush_unchanged())
        await asyncio.shield(self._flushing)  # it writes until none is left: ours too
        return outcome

    async def _flush_unchanged(self) -> None:
        while self._unchanged:
            await asyncio.sleep(COALESCE)  # the answers a moment behind go in the same write
            batch, self._unchanged = self._unchanged, []
            names = [o.source for o in batch]
            try:
                await self._in_writer(functools.partial(self._write_unchanged, names))
            except Exception as exc:  # as a failed write of one source would be: reported, not raised
                log.exception("could not record %d unchanged source(s)", len(batch))
                for o in batch:
                    o.ok, o.error = False, f"internal error: could not record the poll: {exc!r}"

    def _write_unchanged(self, names: list[str]) -> None:
        with self.app.uow() as uow:
            ingest.record_unchanged(uow, names, datetime.now(UTC))

    async def _poll_one(
        self, source: SourceOptions, validators: tuple[str | None, str | None], sem: asyncio.Semaphore
    ) -> Outcome:
        """Read one source as its kind says; any failure is recorded and backed off."""
        started = time.perf_counter()
        kind = REGISTRY.of(source)
        try:
            if isinstance(kind, ReadKind):
                result = await self._read(source, kind)
            elif isinstance(kind, FetchKind):
                result = await self._fetch(source, kind, validators, sem)
            else:
                raise TypeError(f"kind {kind.name} is not polled")
        except FetchError as exc:
            error, status = str(exc), exc.status
            result = await self._in_writer(lambda: self._fail(source, error, status))
        except Exception as exc:  # a bug or a surprise in one source must not stop the others
            log.exception("source %s: unexpected error", source.name)
            error = f"internal error: {exc!r}"
            result = await self._in_writer(lambda: self._fail(source, error, None))
        assert isinstance(result, Outcome)
        result.seconds = time.perf_counter() - started
        return result

    async def _read(self, source: SourceOptions, kind: ReadKind[SourceOptions]) -> object:
        """A kind that reads by itself, on its client's thread; the cursor moves with the items."""
        client, thread = self.app.client(kind.client)

        def cursor() -> dict[str, object]:
            with self.app.uow() as uow:
                return uow.sources.cursor(source.name)

        saved = await self._in_writer(cursor)
        assert isinstance(saved, dict)
        batch = await asyncio.get_running_loop().run_in_executor(thread, kind.read, source, saved, client)
        loop = asyncio.get_running_loop()
        prepared = await loop.run_in_executor(self._writer, prep.prepare_items, self.app, source.name, batch.items)
        return await self._in_writer(lambda: store(self.app, source, 200, prepared, cursor=batch.cursor))

    async def _fetch(
        self,
        source: SourceOptions,
        kind: FetchKind[SourceOptions],
        validators: tuple[str | None, str | None],
        sem: asyncio.Semaphore,
    ) -> object:
        """A conditional GET, then the kind's parser and triage in a worker process."""
        req = kind.request(source, *validators)
        async with sem:
            fetched = await fetch_with_retries(self.client, req, retries=self.app.settings.polling.retries)
        if fetched.not_modified:
            return await self._not_modified(Outcome(source=source.name, ok=True, status=304))
        try:
            prepared = await self._prepare(source, fetched)
        except ParseTimeout as exc:  # a document built to be slow: reported and backed off
            raise FetchError(str(exc), retryable=False, status=fetched.status) from exc
        except Exception as exc:  # the parser met something it could not read at all
            log.exception("source %s: parse failed", source.name)
            raise FetchError(f"could not parse the response: {exc!r}", retryable=False, status=fetched.status) from exc
        return await self._in_writer(
            lambda: store(self.app, source, fetched.status, prepared, fetched.etag, fetched.last_modified)
        )

    def _fail(self, source: SourceOptions, error: str, status: int | None) -> Outcome:
        polling = self.app.settings.polling
        with self.app.uow() as uow:
            delay = ingest.record_failure(
                uow, source.name, error, status, base=polling.backoff_base,
                cap=max(polling.backoff_max, source.every), now=datetime.now(UTC),
            )  # fmt: skip
        log.warning("source %s failed: %s (next try in %s)", source.name, error, delay)
        return Outcome(source=source.name, ok=False, status=status, error=error, retry_in=delay)


def store(
    app: App,
    source: SourceOptions,
    status: int,
    prepared: prep.Prepared | None,
    etag: str | None = None,
    last_modified: str | None = None,
    cursor: dict[str, object] | None = None,
) -> Outcome:
    """Write one poll's prepared items (``prepared`` None: nothing kept) with the source's health (a
    poll's 304s are written together, Poller._not_modified)."""
    prepared = prepared or prep.Prepared()
    for warning in prepared.warnings:
        log.warning("source %s: %s", source.name, warning)
    health = ingest.Health(status, prepared.items, prepared.warnings, etag, last_modified, cursor)
    with app.uow() as uow:
        recorded = ingest.record_poll(
            uow, source.name, source.publisher, prepared.kept, health,
            draft=app.draft, first_response=app.settings.sla.first_response, now=datetime.now(UTC),
            learned=app.learning.deciding if app.settings.triage.learn.enabled else None,
            show=frozenset(app.settings.inbox.show),
        )  # fmt: skip
    return Outcome(
        source=source.name,
        ok=True,
        status=status,
        items=prepared.items,
        added=recorded.mentions_added,
        complaints=recorded.complaints_opened,
        warnings=prepared.warnings,
        complaint_ids=recorded.complaint_ids,
        kinds=recorded.kinds,
    )


def ingest_now(app: App, source_name: str, items: Sequence[RawMention]) -> tuple[int, ...]:
    """Items a source pushed (a Telegram group message) into the journal, like a poll's; returns
    the ids of the complaints opened."""
    source = app.settings.source(source_name)
    prepared = prep.prepare_items(app, source_name, list(items))
    return store(app, source, 200, prepared).complaint_ids
