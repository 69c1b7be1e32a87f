"""Reading what a dashboard request brings: record ids in paths (the ``id`` convertor), numbers
in queries and forms, months. Anything else is a 404 or a 400, never a 500."""

from __future__ import annotations

import re

from starlette.convertors import Convertor, register_url_convertor

MONTH = re.compile(r"(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])")  # YYYY-MM a review can cover


class _Id(Convertor[int]):
    """A record id in a path: digits that fit a 64-bit integer; anything longer is a 404."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", _Id())


def number(value: object) -> int | None:
    """A record id or page number from a query or a form: ASCII digits that fit, else None."""
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
