from datetime import timedelta

import pytest

from core.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("5m", 300),
        ("2h", 7200),
        ("3d", 259200),
        ("1h30m", 5400),
        ("1w", 604800),
        ("1.5h", 5400),
    ],
)
def test_parse(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["", "5", "5 minutes", "m5", "5x", 300, None, True])
def test_rejects_with_a_hint(bad: object) -> None:
    with pytest.raises(ValueError, match="like 90s, 5m, 2h or 3d"):
        parse_duration(bad)


def test_format_round_trips() -> None:
    for text in ("90s", "5m", "2h", "3d", "1h30m"):
        assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime

    from core.durations import retry_after

    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    assert retry_after("120") == 120.0 and retry_after(" 1.5 ") == 1.5 and retry_after("-3") == 0.0
    assert retry_after("Thu, 03 Dec 2026 08:01:30 GMT", now) == 90.0
    assert retry_after("Wed, 02 Dec 2026 08:00:00 GMT", now) == 0.0  # past: at once
    assert retry_after(None) is None and retry_after("") is None and retry_after("soon") is None


def test_backoff_doubles_from_base_up_to_the_cap_within_its_jitter() -> None:
    from core.durations import backoff

    assert [backoff(n, 30, 300) for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]
    assert all(24 <= backoff(1, 30, 300, jitter=0.2) <= 36 for _ in range(100))
