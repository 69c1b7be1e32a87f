"""Fetching with httpx: conditional GET, size and redirect limits, error classification."""

from __future__ import annotations

import asyncio
import email.utils
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from watchers.base import Fetched, FetchError

MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Request:
    url: str
    timeout: float = 20.0
    max_bytes: int = 10_000_000
    etag: str | None = None
    last_modified: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def make_client(user_agent: str, *, max_connections: int = 32) -> httpx.AsyncClient:
    """One shared client: redirects followed (at most 5), compressed bodies decoded."""
    return httpx.AsyncClient(
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        trust_env=False,
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    when = email.utils.parsedate_to_datetime(value) if value else None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


async def fetch(client: httpx.AsyncClient, req: Request) -> Fetched:
    """GET ``req.url`` once, within ``req.timeout`` for the whole of it (connecting, redirects and
    every read: a server that trickles a byte at a time fails like one that never answers).
    Raises FetchError for anything that is not a usable 200 or a 304."""
    try:
        async with asyncio.timeout(req.timeout):
            return await _fetch(client, req)
    except TimeoutError as exc:  # not tried again within the poll: the source is backed off instead
        raise FetchError(f"no complete answer within {req.timeout:g}s (the whole fetch)", retryable=False) from exc


async def _fetch(client: httpx.AsyncClient, req: Request) -> Fetched:
    headers = dict(req.headers)
    if req.etag:
        headers["If-None-Match"] = req.etag
    if req.last_modified:
        headers["If-Modified-Since"] = req.last_modified
    try:
        async with client.stream("GET", req.url, headers=headers, timeout=req.timeout) as resp:
            if resp.status_code == 304:
                return Fetched(url=str(resp.url), status=304, etag=req.etag, last_modified=req.last_modified)
            if resp.status_code >= 400:
                retryable = resp.status_code in (408, 425, 429) or resp.status_code >= 500
                raise FetchError(
                    f"HTTP {resp.status_code} {resp.reason_phrase}".strip(),
                    retryable=retryable,
                    status=resp.status_code,
                    retry_after=_retry_after(resp.headers.get("Retry-After")),
                )
            if resp.status_code >= 300:
                raise FetchError(
                    f"HTTP {resp.status_code} redirect without a usable Location",
                    retryable=False,
                    status=resp.status_code,
                )
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > req.max_bytes:
                raise FetchError(
                    f"response larger than the limit of {req.max_bytes} bytes ({declared} bytes declared)",
                    retryable=False,
                    status=resp.status_code,
                )
            chunks, size = [], 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > req.max_bytes:
                    raise FetchError(
                        f"response larger than the limit of {req.max_bytes} bytes",
                        retryable=False,
                        status=resp.status_code,
                    )
                chunks.append(chunk)
            return Fetched(
                url=str(resp.url),
                status=resp.status_code,
                body=b"".join(chunks),
                content_type=resp.headers.get("Content-Type"),
                etag=resp.headers.get("ETag"),
                last_modified=resp.headers.get("Last-Modified"),
            )
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out after {req.timeout:g}s ({type(exc).__name__})", retryable=True) from exc
    except httpx.TooManyRedirects as exc:
        raise FetchError(f"more than {MAX_REDIRECTS} redirects", retryable=False) from exc
    except httpx.DecodingError as exc:
        raise FetchError(f"the response could not be decompressed: {exc}", retryable=False) from exc
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(f"unsupported address: {exc}", retryable=False) from exc
    except (httpx.TransportError, httpx.InvalidURL) as exc:
        message = str(exc) or type(exc).__name__
        raise FetchError(f"connection failed: {message}", retryable=True) from exc


async def fetch_with_retries(
    client: httpx.AsyncClient,
    req: Request,
    *,
    retries: int = 2,
    base_delay: float = 1.0,
    max_delay: float = 30.0,
) -> Fetched:
    """fetch() with exponential backoff and jitter for retryable errors (Retry-After honoured)."""
    attempt = 0
    while True:
        try:
            return await fetch(client, req)
        except FetchError as exc:
            if not exc.retryable or attempt >= retries:
                raise
            delay = exc.retry_after if exc.retry_after is not None else base_delay * 2**attempt
            await asyncio.sleep(min(delay, max_delay) * (0.5 + random.random() / 2))
            attempt += 1
