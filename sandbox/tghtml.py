"""Telegram's HTML parse mode, checked as strictly as Telegram does: only its tags, balanced,
and ``<``/``&`` escaped; returns the text a user would see."""

from __future__ import annotations

import html
import re

TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*(/?)>")
_ATTR = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")


class EntityError(ValueError):
    """What Telegram answers as 'Bad Request: can't parse entities: ...'."""


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def parse(text: str) -> str:
    """Validate Telegram HTML; return the visible text. Raises EntityError like Telegram would."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            i = _tag(text, i, stack)
        elif ch == "&":
            m = _ENTITY.match(text, i)
            if m is None:
                raise EntityError(
                    f"Character '&' is reserved and must be escaped with &amp; at byte offset {_byte_offset(text, i)}"
                )
            out.append(html.unescape(m.group(0)))
            i = m.end()
        else:
            out.append(ch)
            i += 1
    if stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _tag(text: str, i: int, stack: list[str]) -> int:
    """The tag at ``i`` opened or closed on ``stack``; where the text goes on."""
    m = _TAG.match(text, i)
    if m is None:
        raise EntityError(f"Unexpected end of name token at byte offset {_byte_offset(text, i)}")
    closing, name, attrs = m.group(1), m.group(2).lower(), m.group(3)
    if name not in TAGS:
        raise EntityError(f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, i)}')
    if closing:
        if not stack or stack[-1] != name:
            expected = stack[-1] if stack else ""
            where = _byte_offset(text, i)
            raise EntityError(f'Unmatched end tag at byte offset {where}, expected "</{expected}>", found "</{name}>"')
        stack.pop()
        return m.end()
    if name == "a":
        href = {k.lower(): (v or "").strip("\"'") for k, v in _ATTR.findall(attrs)}.get("href", "")
        if href and not re.match(r"(https?|tg)://", html.unescape(href)):
            raise EntityError(f"Wrong HTTP URL at byte offset {_byte_offset(text, i)}")
    stack.append(name)
    return m.end()


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
