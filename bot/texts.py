"""Staff-chat texts per language, from ``bot/texts/<lang>.toml`` (more languages: more files)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.datafiles import load_first_toml

BUILTIN_DIR = Path(__file__).parent / "texts"
REFERENCE = "en"


class TextsError(ValueError):
    pass


def available_languages(extra_dirs: Iterable[Path] = ()) -> list[str]:
    return sorted({p.stem for d in (BUILTIN_DIR, *extra_dirs) for p in Path(d).glob("*.toml")})


class StaffTexts:
    """Looks texts up as ``t("section", "key", **placeholders)``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.language = str(data.get("language", "?"))

    def t(self, section: str, key: str, **values: object) -> str:
        text = str(self.data[section][key])
        return text.format(**values) if values else text

    def has(self, section: str, key: str) -> bool:
        return key in self.data.get(section, {})


def load_texts(language: str, extra_dirs: Iterable[Path] = ()) -> StaffTexts:
    """The staff texts for ``language``; every key of the English file must be there."""
    dirs = [BUILTIN_DIR, *extra_dirs]
    try:
        found = load_first_toml(f"{language}.toml", dirs)
        reference = load_first_toml(f"{REFERENCE}.toml", [BUILTIN_DIR])
    except tomllib.TOMLDecodeError as exc:
        raise TextsError(f"staff texts {language}.toml: {exc}") from exc
    if found is None:
        known = ", ".join(available_languages(extra_dirs))
        raise TextsError(f"no staff texts for language {language!r} (have: {known})")
    assert reference is not None
    data, path = found
    missing = [
        f"{section}.{key}"
        for section, block in reference[0].items()
        if isinstance(block, dict)
        for key in block
        if not isinstance(data.get(section), dict) or key not in data[section]
    ]
    if missing:
        raise TextsError(f"{path}: missing {', '.join(missing)}")
    return StaffTexts(data)
