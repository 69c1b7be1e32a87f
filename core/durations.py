"""Durations: as people write them in config (90s, 5m, 2h, 3d, 1h30m), as servers say them
(Retry-After), and the backoff between tries."""

from __future__ import annotations

import email.utils
import random
import re
from datetime import UTC, datetime, timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


LONGEST = timedelta(days=36_500)  # a schedule adds it to today: it must stay within the calendar


def parse_duration(value: object) -> timedelta:
    """Parse ``value`` into a timedelta; raise ValueError with a hint when it is not one."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"write a duration like 90s, 5m, 2h or 3d (got {value!r})")
    text = value.strip().lower().replace(" ", "")
    pos, seconds = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        raise ValueError(f"write a duration like 90s, 5m, 2h or 3d (got {value!r})")
    if seconds > LONGEST.total_seconds():
        raise ValueError(f"{value!r} is longer than a schedule can count (at most 100 years)")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest exact form: 300 s → '5m', 5400 s → '1h30m'."""
    total = int(delta.total_seconds())
    if total == 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            out.append(f"{total // size}{unit}")
            total %= size
    return "".join(out)


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from an HTTP ``Retry-After`` (delta-seconds or an HTTP-date; also
    ``x-ratelimit-reset``'s seconds); None when it is absent or makes no sense."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def backoff(attempt: int, base: float, cap: float, jitter: float = 0.0) -> float:
    """Seconds before try ``attempt`` + 1: ``base`` doubling from the first failure, at most
    ``cap``, spread by ±``jitter`` (a share: 0.2 is ±20 %) so many waiters do not return at once."""
    delay: float = min(cap, base * 2 ** max(attempt - 1, 0))
    return delay * random.uniform(1 - jitter, 1 + jitter) if jitter else delay
