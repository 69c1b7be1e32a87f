"""What the commands share: argument types checked before anything runs (record ids, months),
and table rows whose cells are shown as written (text from sources is never rich markup)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from core.review import MONTH
from core.text import strip_controls

if TYPE_CHECKING:
    from rich.table import Table


def record_id(value: str) -> int:
    """A journal id (or a Telegram user id): ASCII digits that fit a 64-bit integer."""
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise argparse.ArgumentTypeError(f"{value!r} is not an id (digits, at most 18)")
    return int(value)


def journal_id(value: str) -> int:
    """The id of a row of the journal (a mention, a complaint, an outbox row, an action): the
    journal's ids are SQL INTEGERs, up to 2147483647."""
    n = record_id(value)
    if n > 2**31 - 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not an id in the journal (at most 2147483647)")
    return n


def limit(value: str) -> int:
    """How many rows at most: 1 to 1,000,000."""
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 1_000_000):
        raise argparse.ArgumentTypeError(f"{value!r}: give a number of rows from 1 to 1000000")
    return int(value)


def month(value: str) -> str:
    if not MONTH.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r}: write the month as YYYY-MM, e.g. 2026-11")
    return value


def plain_row(table: Table, *cells: object) -> None:
    """A table row of text as it is: "[/bold]" in an author's name is not markup, and a control
    code a source slipped in (before they were stripped at intake) does not reach the terminal."""
    from rich.markup import escape  # on use: every command's parser imports this module

    table.add_row(*(escape(strip_controls(str(cell))) for cell in cells))
