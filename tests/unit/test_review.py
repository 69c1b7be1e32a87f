"""The monthly review's arithmetic."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.review import Timing, human, month_range, percentile, week_of, weeks_between


def test_percentiles_interpolate_like_numpy() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 90) == 7.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(list(range(1, 11)), 90) == pytest.approx(9.1)


def test_timing_counts_cases_within_the_sla() -> None:
    t = Timing.of([60, 600, 3600, 7200, -5], sla=timedelta(hours=1))
    assert (t.count, t.median, t.within_sla) == (5, 600, 4)  # a negative time counts as 0


def test_months_and_their_weeks() -> None:
    assert month_range("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_range("November")
    assert week_of(date(2026, 11, 23)) == "2026-W48"
    assert weeks_between(date(2026, 11, 1), date(2026, 12, 1)) == [f"2026-W{n}" for n in range(44, 50)]


def test_durations_read_as_people_say_them() -> None:
    assert [human(s) for s in (None, 30, 600, 5400, 200000)] == ["—", "30 s", "10 min", "1.5 h", "2.3 d"]
