"""Does a text name the brand? Whole-word match on the name and aliases, case-insensitive.

Aliases written in Cyrillic also match their inflected forms (нордлис → нордлиса, нордлисом);
an alias ending in ``*`` matches any ending in every script.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.text import fold

_CYR = re.compile(r"[а-я]")


class BrandMatcher:
    def __init__(self, names: Iterable[str]) -> None:
        parts = []
        for raw in names:
            name = fold(raw).strip()
            if not name:
                continue
            stem = name.rstrip("*")
            suffix = r"\w*" if name.endswith("*") else (r"\w{0,3}" if _CYR.search(stem) else "")
            parts.append(re.escape(stem) + suffix)
        if not parts:
            raise ValueError("the brand needs a name")
        parts.sort(key=len, reverse=True)
        self._pattern = re.compile(rf"(?<![\w])(?:{'|'.join(parts)})(?![\w])")

    def matches(self, *texts: str | None) -> bool:
        return any(t and self._pattern.search(fold(t)) for t in texts)
