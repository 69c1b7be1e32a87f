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
