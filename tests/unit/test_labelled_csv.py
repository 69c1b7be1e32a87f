"""Labelled files for `reclaim triage evaluate`: the shapes people have (headers named like
tweet_text and is_complaint, no header, semicolons, tabs, line breaks in quotes, 1.0/0.0 from a
spreadsheet) are read; what cannot be read is one sentence that says what to change."""

from __future__ import annotations

from pathlib import Path

import pytest

from reclaim.labelled_csv import CsvError, read_labelled

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("id,tweet_text,is_complaint\n7,day 12 and still no refund,1\n8,love it,0\n", 2),
        ("tweet_text,complaint\nday 12 and still no refund,1\nlove it,0\n", 2),
        ("day 12 and still no refund,true\nlove it,false\n", 2),
        ("message me back please,1\nlovely,0\n", 2),  # a first text that says "message" is not a header
        ("text;label\nstill no refund, day 12;1\nlovely;0\n", 2),
        ("text\tlabel\nstill no refund, day 12\tcomplaint\nlovely\tother\n", 2),
        ('text,label\n"line one\nline two",1.0\n"fine, thanks",0.0\n', 2),
    ],
)
def test_the_shapes_people_have_are_read(tmp_path: Path, content: str, expected: int) -> None:
    path = tmp_path / "l.csv"
    path.write_text(content, "utf-8")
    rows = read_labelled(path, None, None)
    assert len(rows) == expected and rows[0][1] is True and rows[-1][1] is False
    assert "refund" in rows[0][0] or "message" in rows[0][0] or "line two" in rows[0][0]


def test_what_cannot_be_read_says_what_to_change(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("1,day 12 and still no refund\n0,love it\n", "utf-8")
    with pytest.raises(CsvError, match="columns look swapped: try --text-column 1 --label-column 0"):
        read_labelled(path, None, None)
    with pytest.raises(CsvError, match="both column 1"):
        read_labelled(path, "1", "1")
    assert read_labelled(path, "1", "0") == [("day 12 and still no refund", True), ("love it", False)]
    path.write_bytes("text,label\nfrøs,1\n".encode("latin-1"))
    with pytest.raises(CsvError, match="save it as UTF-8"):
        read_labelled(path, None, None)
