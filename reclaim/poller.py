"""One poll of some sources: fetch concurrently, then parse → triage → store → draft per source.

Fetches overlap; parsing and journal writes run one at a time on a single worker thread, so
SQLite never sees two writers and the event loop stays free. A source that fails, in any
way, is recorded with its error and backoff and never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from core.ingest import plan_ingest
from reclaim.app import App, build_watcher
from reclaim.settings import Source
from storage.journal import known_ids, mark_failure, mark_success, record_plan
from storage.tables import SourceState
from watchers import Fetched, FetchError
from watchers.http import Request, fetch_with_retries, make_client

log = logging.getLogger("reclaim.poll")


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

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Poller:
    """Polls sources for an App; reuse one Poller (its HTTP client and writer thread) across polls."""

    def __init__(self, app: App, client: httpx.AsyncClient | None = None) -> None:
        self.app = app
        self._own_client = client is None
        self.client = client or make_client(app.user_agent, max_connections=app.settings.polling.concurrency * 2)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reclaim-journal")

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()
        self._writer.shutdown(wait=True)

    async def _in_writer(self, fn: Callable[[], Outcome | dict[str, tuple[str | None, str | None]]]) -> object:
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn)

    def _validators(self) -> dict[str, tuple[str | None, str | None]]:
        with self.app.sessions() as session:
            return {s.name: (s.etag, s.last_modified) for s in session.query(SourceState)}

    async def poll(self, sources: Sequence[Source], on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        validators = await self._in_writer(self._validators)
        assert isinstance(validators, dict)
        sem = asyncio.Semaphore(self.app.settings.polling.concurrency)

        async def one(source: Source) -> Outcome:
            outcome = await self._poll_one(source, validators.get(source.name, (None, None)), sem)
            if on_done is not None:
                on_done(outcome)
            return outcome

        return list(await asyncio.gather(*(one(s) for s in sources)))

    async def _poll_one(
        self, source: Source, validators: tuple[str | None, str | None], sem: asyncio.Semaphore
    ) -> Outcome:
        started = time.perf_counter()
        polling = self.app.settings.polling
        req = Request(
            url=source.url,
            timeout=source.timeout.total_seconds(),
            max_bytes=source.max_bytes,
            etag=validators[0],
            last_modified=validators[1],
            headers=tuple(source.headers.items()),
        )
        try:
            async with sem:
                fetched = await fetch_with_retries(self.client, req, retries=polling.retries)
            result = await self._in_writer(lambda: self._ingest(source, fetched))
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

    def _fail(self, source: Source, error: str, status: int | None) -> Outcome:
        polling = self.app.settings.polling
        with self.app.sessions.begin() as session:
            delay = mark_failure(
                session,
                source.name,
                now=datetime.now(UTC),
                error=error,
                status=status,
                base=polling.backoff_base,
                cap=max(polling.backoff_max, source.every),
            )
        log.warning("source %s failed: %s (next try in %s)", source.name, error, delay)
        return Outcome(source=source.name, ok=False, status=status, error=error, retry_in=delay)

    def _ingest(self, source: Source, fetched: Fetched) -> Outcome:
        now = datetime.now(UTC)
        if fetched.not_modified:
            with self.app.sessions.begin() as session:
                mark_success(
                    session,
                    source.name,
                    now=now,
                    status=304,
                    etag=None,
                    last_modified=None,
                    items=0,
                    added=0,
                    warnings=[],
                )
            return Outcome(source=source.name, ok=True, status=304)
        try:
            parsed = build_watcher(source).parse(fetched)
        except Exception as exc:  # the parser met something it could not read at all
            log.exception("source %s: parse failed", source.name)
            return self._fail(source, f"could not parse the response: {exc!r}", fetched.status)
        for warning in parsed.warnings:
            log.warning("source %s: %s", source.name, warning)
        with self.app.sessions.begin() as session:
            known = known_ids(session, source.name, (i.external_id for i in parsed.items))
            plan = plan_ingest(
                source.name,
                parsed.items,
                known=known,
                classify=self.app.classify,
                draft=self.app.draft,
                now=now,
                first_response=self.app.settings.sla.first_response,
                brand=self.app.brand if source.match == "brand" else None,
            )
            recorded = record_plan(session, plan)
            mark_success(
                session,
                source.name,
                now=now,
                status=fetched.status,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                items=len(parsed.items),
                added=recorded.mentions_added,
                warnings=parsed.warnings,
            )
        return Outcome(
            source=source.name,
            ok=True,
            status=fetched.status,
            items=len(parsed.items),
            added=recorded.mentions_added,
            complaints=recorded.complaints_opened,
            warnings=parsed.warnings,
            complaint_ids=recorded.complaint_ids,
        )
