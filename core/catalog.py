"""Texts in many languages, one TOML file a language (``<folder>/<code>.toml``): the staff
chat's (bot/texts/), the private conversation's (responders/conversation/). A file in a later
folder (the company's own) replaces the built-in one; every key of the reference language's
file must be there, so a new language is a file, never code. Looked up by dotted key."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.datafiles import load_first_toml

REFERENCE = "en"


class CatalogError(ValueError):
    """A language's texts file is missing, malformed or lacks keys the reference file has."""


@dataclass(frozen=True)
class Catalog:
    language: str
    data: Mapping[str, Any]

    def t(self, key: str, **params: object) -> str:
        """The text at ``key`` ("section.key"), with its placeholders filled."""
        node: Any = self.data
        for part in key.split("."):
            node = node[part]
        return str(node).format(**params) if params else str(node)

    def has(self, key: str) -> bool:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return False
            node = node[part]
        return True


def languages(builtin: Path, extra_dirs: Iterable[Path] = ()) -> list[str]:
    """The languages some folder has a file for."""
    return sorted({p.stem for d in (builtin, *extra_dirs) for p in Path(d).glob("*.toml")})


def keys(data: Mapping[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for k, v in data.items():
        out |= keys(v, f"{prefix}{k}.") if isinstance(v, Mapping) else {f"{prefix}{k}"}
    return out


def load_catalog(what: str, language: str, builtin: Path, extra_dirs: Sequence[Path] = ()) -> Catalog:
    """``language``'s texts of one kind (``what`` names it in errors): CatalogError when there is
    no file, it does not parse, or it lacks a key of the reference language's built-in file."""
    try:
        found = load_first_toml(f"{language}.toml", [builtin, *extra_dirs])
        reference = load_first_toml(f"{REFERENCE}.toml", [builtin])
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{what} {language}.toml: {exc}") from exc
    if found is None:
        have = ", ".join(languages(builtin, extra_dirs))
        raise CatalogError(f"no {what} for language {language!r} (have: {have}; add {builtin.name}/{language}.toml)")
    assert reference is not None, f"{builtin}/{REFERENCE}.toml is part of Reclaim"
    missing = sorted(keys(reference[0]) - keys(found[0]))
    if missing:
        raise CatalogError(f"{found[1]}: missing {', '.join(missing)}")
    return Catalog(language, found[0])
