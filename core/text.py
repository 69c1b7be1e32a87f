"""Plain-text helpers that every room may use: normalising and cutting user text."""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ё": "е", "Ё": "Е"})
_TOKEN = re.compile(r"[\w']+")


# C0 and C1 controls but tab and newline, DEL, and the bidirectional overrides and isolates: what
# a source could use to repaint a terminal, hide a link or turn text around (and PostgreSQL refuses NUL)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ESCAPES = re.compile("\x1b(?:\\[[0-?]*[ -/]*[@-~]|\\][^\x07\x1b]*(?:\x07|\x1b\\\\)?|[@-_])")


def strip_controls(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (tab and newline stay)."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def normalise_whitespace(text: str) -> str:
    """Collapse runs of white space (including non-breaking spaces) to one space."""
    return _WS.sub(" ", text.replace("\u00a0", " ")).strip()


def fold(text: str) -> str:
    """Lower-case form used for matching: NFC, unified apostrophes, ё→е, single spaces."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES).lower()
    return normalise_whitespace(text)


def token_spans(text: str) -> list[tuple[int, int]]:
    """Where each word token of ``text`` (as written, not folded) starts and ends."""
    return [m.span() for m in _TOKEN.finditer(text)]


def tokens(text: str) -> list[str]:
    """Word tokens of already-folded text."""
    return _TOKEN.findall(text)


_SENTENCE_END = re.compile(r"[.!?;]|\n")


def sentence_starts(text: str) -> list[int]:
    """Indexes (into ``tokens(text)``) of the tokens that begin a sentence, 0 first."""
    starts, last_end = [0], 0
    for n, m in enumerate(_TOKEN.finditer(text)):
        if n and _SENTENCE_END.search(text[last_end : m.start()]):
            starts.append(n)
        last_end = m.end()
    return starts


def cut(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut ``text`` to at most ``limit`` characters at a word boundary where possible."""
    if len(text) <= limit:
        return text
    room = max(limit - len(ellipsis), 0)
    head = text[:room]
    space = head.rfind(" ")
    if space > room * 0.6:
        head = head[:space]
    return head.rstrip(" ,.;:-") + ellipsis
