"""Turning fetched bytes and HTML fragments into clean text: charsets, markup, entities."""

from __future__ import annotations

import codecs
import html
import re
from datetime import UTC, datetime

import charset_normalizer
from dateutil import parser as dateparser
from lxml import etree
from lxml import html as lxml_html

from core.text import normalise_whitespace

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECL = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")
_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.I)
_TAG = re.compile(r"<[^>]+>")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
DROP = frozenset({"script", "style", "noscript", "template"})  # never part of a text
BLOCKS = ("br", "p", "div", "li")  # end with a space, so words either side stay apart


def _codec(name: str | bytes | None) -> str | None:
    if not name:
        return None
    text = name.decode("ascii", "ignore") if isinstance(name, bytes) else name
    try:
        return codecs.lookup(text.strip().lower()).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    match = _CT_CHARSET.search(content_type or "")
    return _codec(match.group(1)) if match else None


def decode_document(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode an HTML/XML document: BOM, then HTTP charset, then <meta>/XML declaration,
    then strict UTF-8, then detection from the bytes. Returns (text, encoding used)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace").lstrip("\ufeff"), name
    head = body[:4096]
    declared = charset_from_content_type(content_type)
    if declared is None:
        m = _META.search(head) or _XML_DECL.search(head)
        declared = _codec(m.group(1)) if m else None
    if declared is not None:
        try:
            return body.decode(declared), declared
        except UnicodeDecodeError:
            pass  # a wrong declaration is common; fall through to the bytes themselves
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(body[:200_000]).best()
    detected = _codec(best.encoding) if best is not None else None
    chosen = detected or declared or "cp1252"
    return body.decode(chosen, errors="replace"), chosen


def html_to_text(fragment: str | None) -> str:
    """Plain text of an HTML fragment: markup stripped, entities decoded, spaces normalised."""
    if not fragment:
        return ""
    if "<" not in fragment:
        return normalise_whitespace(html.unescape(fragment))
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return normalise_whitespace(html.unescape(_TAG.sub(" ", fragment)))
    for el in root.iter(*DROP):
        el.drop_tree()
    for br in root.iter(*BLOCKS):
        br.tail = " " + (br.tail or "")
    text = normalise_whitespace(root.text_content())
    if not text:  # markup that swallowed everything (e.g. "<!' <a>"): keep the words, lose nothing
        text = normalise_whitespace(html.unescape(_TAG.sub(" ", fragment))) or normalise_whitespace(fragment)
    return text


def parse_date(value: str | None) -> datetime | None:
    """An aware UTC datetime from a loosely written date, or None."""
    if not value or not value.strip():
        return None
    try:
        parsed = dateparser.parse(value.strip())
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed is None:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
