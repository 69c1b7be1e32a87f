"""Fetching with httpx: conditional GET, size and redirect limits, error classification."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from core.durations import backoff, retry_after
from watchers.base import Fetched, FetchError
from watchers.options import is_credential_header

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
    """One shared client; compressed bodies decoded. Redirects are followed by ``fetch`` itself
    (at most MAX_REDIRECTS), which keeps a source's credentials from following one elsewhere."""
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        trust_env=False,
    )


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
        request = client.build_request("GET", req.url, headers=headers, timeout=req.timeout)
        for _ in range(MAX_REDIRECTS + 1):
            resp = await client.send(request, stream=True, follow_redirects=False)
            try:
                if resp.next_request is None:
                    return await _answer(resp, req)
                request = _without_credentials(request, resp.next_request)
            finally:
                await resp.aclose()
        raise FetchError(f"more than {MAX_REDIRECTS} redirects", retryable=False)
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out after {req.timeout:g}s ({type(exc).__name__})", retryable=True) from exc
    except httpx.DecodingError as exc:
        raise FetchError(f"the response could not be decompressed: {exc}", retryable=False) from exc
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(f"unsupported address: {exc}", retryable=False) from exc
    except (httpx.TransportError, httpx.InvalidURL) as exc:
        message = str(exc) or type(exc).__name__
        raise FetchError(f"connection failed: {message}", retryable=True) from exc


def _without_credentials(previous: httpx.Request, following: httpx.Request) -> httpx.Request:
    """The redirect's request, without the source's credential headers when it leaves the origin
    they were meant for (httpx drops only Authorization and Cookie by itself)."""
    same = (previous.url.scheme, previous.url.host, previous.url.port) == (
        following.url.scheme, following.url.host, following.url.port,
    )  # fmt: skip
    if not same:
        for name, value in list(following.headers.items()):
            if is_credential_header(name, value):
                del following.headers[name]
    return following


async def _answer(resp: httpx.Response, req: Request) -> Fetched:
    """The final response of a fetch (no redirect left), or FetchError."""
    if resp.status_code == 304:
        return Fetched(url=str(resp.url), status=304, etag=req.etag, last_modified=req.last_modified)
    _refuse_status(resp, req)
    return Fetched(
        url=str(resp.url),
        status=resp.status_code,
        body=await _body(resp, req),
        content_type=resp.headers.get("Content-Type"),
        etag=resp.headers.get("ETag"),
        last_modified=resp.headers.get("Last-Modified"),
    )


def _refuse_status(resp: httpx.Response, req: Request) -> None:
    """FetchError for an error status, a redirect left over, or a declared size over the limit."""
    code = resp.status_code
    if code >= 400:
        retryable = code in (408, 425, 429) or code >= 500
        raise FetchError(f"HTTP {code} {resp.reason_phrase}".strip(), retryable=retryable, status=code,
                         retry_after=retry_after(resp.headers.get("Retry-After")))  # fmt: skip
    if code >= 300:
        raise FetchError(f"HTTP {code} redirect without a usable Location", retryable=False, status=code)
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > req.max_bytes:
        raise FetchError(f"response larger than the limit of {req.max_bytes} bytes ({declared} bytes declared)",
                         retryable=False, status=code)  # fmt: skip


async def _body(resp: httpx.Response, req: Request) -> bytes:
    """The (decompressed) body, read no further than ``max_bytes``."""
    chunks, size = [], 0
    async for chunk in resp.aiter_bytes():
        size += len(chunk)
        if size > req.max_bytes:
            message = f"response larger than the limit of {req.max_bytes} bytes"
            raise FetchError(message, retryable=False, status=resp.status_code)
        chunks.append(chunk)
    return b"".join(chunks)


async def fetch_with_retries(
    client: httpx.AsyncClient,
    req: Request,
    *,
    retries: int = 2,
    base_delay: float = 1.0,
    max_delay: float = 30.0,
) -> Fetched:
    """fetch() tried again for retryable errors (timeouts, 5xx, 429) within the poll, with
    exponential backoff and jitter, a server's Retry-After honoured (tenacity runs the loop)."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = exc.retry_after if isinstance(exc, FetchError) else None
        delay = after if after is not None else backoff(state.attempt_number, base_delay, max_delay)
        return min(delay, max_delay) * random.uniform(0.5, 1.0)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(retries + 1),
        wait=wait,
        retry=retry_if_exception(lambda exc: isinstance(exc, FetchError) and exc.retryable),
        reraise=True,
    )
    return await retrying(fetch, client, req)
