"""What the commands share: argument types checked before anything runs (record ids, months),
and table rows whose cells are shown as written (text from sources is never rich markup)."""

from __future__ import annotations

import argparse

from rich.markup import escape
from rich.table import Table

from core.review import MONTH


def record_id(value: str) -> int:
    """A journal id (or a Telegram user id): ASCII digits that fit a 64-bit integer."""
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise argparse.ArgumentTypeError(f"{value!r} is not an id (digits, at most 18)")
    return int(value)


def month(value: str) -> str:
    if not MONTH.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r}: write the month as YYYY-MM, e.g. 2026-11")
    return value


def plain_row(table: Table, *cells: object) -> None:
    """A table row of text as it is: "[/bold]" in an author's name is not markup."""
    table.add_row(*(escape(str(cell)) for cell in cells))
