"""Finding a language's data file (word lists, reply templates) among several folders."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def load_first_toml(filename: str, folders: Sequence[Path]) -> tuple[dict[str, Any], Path] | None:
    """Parse ``filename`` from the last folder that has it (later folders override earlier ones).

    Raises tomllib.TOMLDecodeError for a malformed file; returns None when no folder has it."""
    for folder in reversed(folders):
        path = folder / filename
        if path.is_file():
            return tomllib.loads(path.read_text(encoding="utf-8")), path
    return None
