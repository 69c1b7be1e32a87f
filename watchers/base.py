"""What every watcher shares: the fetched response, the parse result, the error types."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Protocol

from core.model import RawMention

MAX_ID = 512


@dataclass(frozen=True, slots=True)
class Fetched:
    """One HTTP response as the parser needs it (body already decompressed)."""

    url: str
    status: int
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(slots=True)
class Parsed:
    items: list[RawMention] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class FetchError(Exception):
    """A source could not be fetched. ``retryable`` errors are tried again within the poll."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


class ParseTimeout(Exception):
    """Parsing one source's document ran past the source's ``parse_timeout``."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """When a parse must be done; long loops call ``check()`` so no document holds a worker."""

    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds, seconds)

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise ParseTimeout(f"parsing took longer than {self.seconds:g}s (parse_timeout)")


NO_DEADLINE = Deadline(float("inf"), float("inf"))


class Watcher(Protocol):
    """A source kind: turns a fetched document into mentions, without I/O."""

    def parse(self, fetched: Fetched, deadline: Deadline = NO_DEADLINE) -> Parsed: ...


def stable_id(*parts: str | None) -> str:
    """An external id for items that carry none: a hash of what identifies them."""
    digest = hashlib.sha256("\x1f".join(p or "" for p in parts).encode("utf-8")).hexdigest()
    return f"sha256:{digest[:40]}"


def clamp_id(value: str) -> str:
    value = value.strip()
    return value if len(value) <= MAX_ID else stable_id(value)
