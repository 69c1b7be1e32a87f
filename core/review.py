"""The monthly review's arithmetic, pure: medians and percentiles, shares, weeks of a month."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks (numpy's
    default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    if lo == hi:
        return float(ordered[int(k)])
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo))


@dataclass(frozen=True, slots=True)
class Timing:
    """How long something took across cases, in seconds."""

    count: int
    median: float | None
    p90: float | None
    within_sla: int = 0  # cases at or under the SLA (when one applies)

    @classmethod
    def of(cls, seconds: Iterable[float], sla: timedelta | None = None) -> Timing:
        values = [max(s, 0.0) for s in seconds]
        within = sum(1 for v in values if sla is not None and v <= sla.total_seconds())
        return cls(len(values), percentile(values, 50), percentile(values, 90), within)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def month_range(month: str) -> tuple[date, date]:
    """``"2026-11"`` → (first day, first day of the next month)."""
    try:
        year, mon = (int(p) for p in month.split("-"))
        first = date(year, mon, 1)
    except ValueError:
        raise ValueError(f"a month is written YYYY-MM, e.g. 2026-11 (got {month!r})") from None
    following = date(year + (mon == 12), mon % 12 + 1, 1)
    return first, following


MONTH = re.compile(r"(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])")  # a YYYY-MM a review can cover (ASCII digits)


def previous_month(now: datetime) -> str:
    """The month before ``now``'s, as YYYY-MM."""
    last = now.date().replace(day=1) - timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


def week_of(day: date) -> str:
    """The ISO week a day belongs to, as ``2026-W47``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weeks_between(first: date, following: date) -> list[str]:
    out: list[str] = []
    day = first
    while day < following:
        if week_of(day) not in out:
            out.append(week_of(day))
        day += timedelta(days=1)
    return out


def human(seconds: float | None) -> str:
    """A duration as people say it: 45 s, 12 min, 3.5 h, 2.1 d."""
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()
