"""A labelled file for `reclaim triage evaluate` and bench/triage.py: CSV (or semicolon- or
tab-separated), UTF-8, with or without a header; columns by header name or 0-based index;
labels 1/0, true/false, yes/no, complaint/other. Anything it cannot read is one sentence that
names the row, the cell or the option to change."""

from __future__ import annotations

import csv
import io
from pathlib import Path

TRUE = {"1", "1.0", "true", "yes", "complaint", "y", "t"}
FALSE = {"0", "0.0", "false", "no", "other", "not_complaint", "not complaint", "not-complaint", "non-complaint",
         "non_complaint", "noncomplaint", "n", "f", "none"}  # fmt: skip
TEXT_NAMES = ("text", "tweet", "body", "content", "message", "review")
LABEL_NAMES = ("label", "complaint", "is_complaint", "class", "kind", "y")
MAX_FIELD = 1_000_000


class CsvError(ValueError):
    """A labelled file that cannot be read as asked, in words for the person who gave it."""


def _label(value: str) -> bool | None:
    v = value.strip().lower()
    return True if v in TRUE else False if v in FALSE else None


def _named(cell: str, names: tuple[str, ...]) -> bool:
    """A header cell that names such a column: "text", "tweet_text", "is_complaint" …"""
    c = cell.strip().lower()
    return c in names or (len(c) <= 40 and " " not in c and any(n in c for n in names if len(n) > 2))


def _has_header(rows: list[list[str]], text_column: str | None, label_column: str | None) -> bool:
    """A first row is a header when a column is asked for by name, when its label cell is not a
    label, when a short cell names a text column ("text", "tweet_text" …), or when its label is a
    word ("complaint") where the rows below say 1/0 or true/false."""
    if any(c is not None and not c.strip().isdigit() for c in (text_column, label_column)):
        return True
    first, at = rows[0], int(label_column) if label_column is not None else 1
    if at >= len(first) or _label(first[at]) is None:
        swapped = at < len(first) and len(first[at]) > 20 and _label(first[0]) is not None
        return not swapped  # a label where the text should be is data in the wrong order, not a header
    if any(_named(cell, TEXT_NAMES) for cell in first):
        return True
    below = [r[at].strip().lower() for r in rows[1:50] if at < len(r)]
    return first[at].strip().lower() in LABEL_NAMES and bool(below) and first[at].strip().lower() not in below


def _column(spec: str | None, header: list[str] | None, names: tuple[str, ...], default: int, what: str) -> int:
    if spec is not None and spec.strip().isdigit():
        return int(spec)
    if spec is not None:
        if header is None:
            raise CsvError(f"--{what}-column {spec!r}: the file has no header; give a 0-based index")
        folded = [h.strip().lower() for h in header]
        if spec.strip().lower() not in folded:
            raise CsvError(f"--{what}-column {spec!r}: no such column (the header has: {', '.join(header)})")
        return folded.index(spec.strip().lower())
    if header is not None:
        folded = [h.strip().lower() for h in header]
        for name in names:  # an exact name first, then a column whose name contains one
            if name in folded:
                return folded.index(name)
        for i, cell in enumerate(folded):
            if _named(cell, names):
                return i
    return default


def _rows(path: Path) -> list[list[str]]:
    csv.field_size_limit(MAX_FIELD)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CsvError(f'{path} is not UTF-8 text: save it as UTF-8 ("CSV UTF-8" in a spreadsheet)') from None
    except OSError as exc:
        raise CsvError(f"cannot read {path}: {exc.strerror or exc}") from None
    first = text.split("\n", 1)[0]
    try:  # quoted cells may hold line breaks: the reader gets the whole text
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in r)]
        if rows and len(rows[0]) == 1 and ("\t" in first or ";" in first):
            delimiter = "\t" if "\t" in first else ";"  # a comma-separated file would have split
            rows = [
                r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if any(c.strip() for c in r)
            ]
    except csv.Error as exc:
        raise CsvError(f"cannot read {path} as CSV: {exc}") from None
    return rows


def read_labelled(path: Path, text_column: str | None, label_column: str | None) -> list[tuple[str, bool]]:
    """(text, is a complaint) rows."""
    rows = _rows(path)
    if not rows:
        raise CsvError(f"{path} has no rows")
    header = rows[0] if _has_header(rows, text_column, label_column) else None
    text_i = _column(text_column, header, TEXT_NAMES, 0, "text")
    label_i = _column(label_column, header, LABEL_NAMES, 1, "label")
    if text_i == label_i:
        raise CsvError(f"the text and the label are both column {text_i}: give --text-column and --label-column")
    out = []
    for n, row in enumerate(rows[1:] if header is not None else rows, start=2 if header is not None else 1):
        if max(text_i, label_i) >= len(row):
            raise CsvError(f"{path} row {n}: {len(row)} column(s), column {max(text_i, label_i)} asked for")
        label = _label(row[label_i])
        if label is None:
            hint = ""
            if len(row[label_i]) > 20 and _label(row[text_i]) is not None:
                hint = f"; the columns look swapped: try --text-column {label_i} --label-column {text_i}"
            raise CsvError(f"{path} row {n}: {row[label_i][:40]!r} is not a label (1/0, true/false, "
                           f"complaint/other){hint}")  # fmt: skip
        out.append((row[text_i], label))
    return out
