"""Reading what a dashboard request brings: record ids in paths (the ``id`` convertor) and
numbers in queries and forms (months: core.review.MONTH). Anything else is a 404 or a 400, never a 500."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

MAX_ID = 2**31 - 1  # the journal's ids are SQL INTEGERs (PostgreSQL refuses anything larger)


class _Id(Convertor[int]):
    """A record id in a path: digits; one past what the journal's ids can be reads as 0, which no
    record has (a 404), never as an error from the database."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        n = int(value)
        return n if n <= MAX_ID else 0

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", _Id())


def number(value: object) -> int | None:
    """A record id or page number from a query or a form: ASCII digits that fit, else None."""
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 and int(text) <= MAX_ID else None
