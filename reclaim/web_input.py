"""Reading what a dashboard request brings: record ids in paths (the ``id`` convertor) and
numbers in queries and forms (months: core.review.MONTH). Anything else is a 404 or a 400, never a 500."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


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
