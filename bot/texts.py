"""Staff-chat texts per language, from ``bot/texts/<lang>.toml`` (more languages: more files;
core/catalog.py loads and checks them)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from core.catalog import Catalog, languages, load_catalog

BUILTIN_DIR = Path(__file__).parent / "texts"


def available_languages(extra_dirs: Iterable[Path] = ()) -> list[str]:
    return languages(BUILTIN_DIR, extra_dirs)


class StaffTexts:
    """Looks texts up as ``t("section", "key", **placeholders)``."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.language = catalog.language

    def t(self, section: str, key: str, **values: object) -> str:
        return self.catalog.t(f"{section}.{key}", **values)

    def has(self, section: str, key: str) -> bool:
        return self.catalog.has(f"{section}.{key}")


def load_texts(language: str, extra_dirs: Iterable[Path] = ()) -> StaffTexts:
    """The staff texts for ``language``; every key of the English file must be there."""
    return StaffTexts(load_catalog("staff texts", language, BUILTIN_DIR, list(extra_dirs)))
