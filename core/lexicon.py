"""Word lists per language, read from TOML data files and compiled into one token matcher.

A term is one or more words. A word ending in ``*`` matches any ending (``deliver*``
matches delivery, delivered); a ``~`` between words allows up to two other words there
(``not ~ received`` matches "not yet received"). Matching runs on the word tokens of
folded text (lower case, ``ё`` → ``е``, unified apostrophes), in one pass for all lists.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.datafiles import load_first_toml
from core.model import Flag
from core.text import fold, tokens

BUILTIN_DIR = Path(__file__).parent / "lexicons"
WEIGHTS = {"strong": 3.0, "medium": 2.0, "weak": 1.0}
GAP_WORDS = 2


class LexiconError(ValueError):
    """A word-list file or an extension from config is malformed."""


@dataclass(frozen=True, slots=True)
class Term:
    """One compiled term: its words (``""`` marks a gap), the list it belongs to, its weight."""

    text: str
    words: tuple[str, ...]
    prefix: tuple[bool, ...]
    group: str
    weight: float
    has_negation: bool


@dataclass(frozen=True, slots=True)
class Match:
    term: Term
    start: int
    end: int  # token index after the match


def _word_ok(token: str, word: str, prefix: bool) -> bool:
    return token.startswith(word) if prefix else token == word


class Matcher:
    """Finds every term of every list in a token sequence, in one left-to-right pass."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.exact: dict[str, list[Term]] = defaultdict(list)
        self.prefixed: dict[str, list[Term]] = defaultdict(list)
        for term in terms:
            first, is_prefix = term.words[0], term.prefix[0]
            (self.prefixed[first[:2]] if is_prefix else self.exact[first]).append(term)
        for bucket in (*self.exact.values(), *self.prefixed.values()):
            bucket.sort(key=lambda t: len(t.words), reverse=True)

    def _extend(self, term: Term, toks: Sequence[str], pos: int, k: int) -> int:
        """Token index after a match of ``term.words[k:]`` starting at ``pos``, or -1."""
        if k == len(term.words):
            return pos
        if term.words[k] == "":
            for skip in range(GAP_WORDS + 1):
                end = self._extend(term, toks, pos + skip, k + 1)
                if end >= 0:
                    return end
            return -1
        if pos < len(toks) and _word_ok(toks[pos], term.words[k], term.prefix[k]):
            return self._extend(term, toks, pos + 1, k + 1)
        return -1

    def find(self, toks: Sequence[str]) -> list[Match]:
        """All matches; within one list, overlapping matches keep the earliest, longest one."""
        taken: dict[str, int] = {}
        out: list[Match] = []
        for i, tok in enumerate(toks):
            candidates = self.exact.get(tok, [])
            extra = self.prefixed.get(tok[:2])
            if extra:
                candidates = [*candidates, *(t for t in extra if tok.startswith(t.words[0]))]
            for term in candidates:
                if taken.get(term.group, 0) > i:
                    continue
                end = self._extend(term, toks, i + 1, 1)
                if end >= 0:
                    out.append(Match(term, i, end))
                    taken[term.group] = end
        return out


@dataclass(slots=True)
class Lexicon:
    """The compiled word lists of one language."""

    code: str
    name: str
    script: str
    stopwords: frozenset[str]
    letters: str
    suffixes: tuple[str, ...]
    negations: frozenset[str]
    contrast: frozenset[str]
    matcher: Matcher
    categories: tuple[str, ...] = field(default_factory=tuple)


def make_term(text: str, group: str, weight: float, negations: frozenset[str]) -> Term:
    words: list[str] = []
    prefix: list[bool] = []
    for piece in fold(text).split(" "):
        if piece == "~":
            words.append("")
            prefix.append(False)
            continue
        parts = tokens(piece.rstrip("*"))
        if not parts:
            raise LexiconError(f"{group}: term {text!r} has a part that can never match")
        words += parts
        prefix += [False] * (len(parts) - 1) + [piece.endswith("*")]
    if not words or words[0] == "" or words[-1] == "":
        raise LexiconError(f"{group}: term {text!r} must start and end with a word")
    return Term(
        text=text,
        words=tuple(words),
        prefix=tuple(prefix),
        group=group,
        weight=weight,
        has_negation=any(w in negations for w in words),
    )


def _merge(base: dict[str, Any], extra: Mapping[str, Any], path: str) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        here = f"{path}.{key}" if path else key
        current = out.get(key)
        if isinstance(value, Mapping):
            if current is not None and not isinstance(current, dict):
                raise LexiconError(f"{here}: expected a list of words, got a table")
            out[key] = _merge(current or {}, value, here)
        elif isinstance(value, list):
            if current is not None and not isinstance(current, list):
                raise LexiconError(f"{here}: expected a table, got a list")
            out[key] = [*(current or []), *value]
        else:
            out[key] = value
    return out


def _terms(data: Mapping[str, Any], negations: frozenset[str]) -> tuple[list[Term], list[str]]:
    code = data.get("language", "?")
    out: list[Term] = []
    for kind in ("complaint", "praise"):
        for level, words in data.get("kind", {}).get(kind, {}).items():
            if level not in WEIGHTS:
                raise LexiconError(f"{code}.kind.{kind}.{level}: use strong, medium or weak")
            out += [make_term(w, kind, WEIGHTS[level], negations) for w in words]
    for w in data.get("kind", {}).get("question", {}).get("terms", []):
        out.append(make_term(w, "question", 1.0, negations))
    for flag in Flag:
        out += [make_term(w, f"flag:{flag.value}", 1.0, negations) for w in data.get("flags", {}).get(flag.value, [])]
    for level in ("critical", "high"):
        out += [make_term(w, f"severity:{level}", 1.0, negations) for w in data.get("severity", {}).get(level, [])]
    categories = [str(c) for c in data.get("categories", {})]
    for name in categories:
        out += [make_term(w, f"category:{name}", 1.0, negations) for w in data["categories"][name]]
    return out, categories


def build_lexicon(data: Mapping[str, Any]) -> Lexicon:
    """Compile a parsed word-list document (see ``core/lexicons/en.toml``)."""
    try:
        negations = frozenset(fold(w) for w in data.get("negations", []))
        terms, categories = _terms(data, negations)
        return Lexicon(
            code=str(data["language"]),
            name=str(data.get("name", data["language"])),
            script=str(data.get("script", "latin")),
            stopwords=frozenset(fold(w) for w in data.get("stopwords", [])),
            letters=fold(str(data.get("letters", ""))),
            suffixes=tuple(fold(x) for x in data.get("suffixes", [])),
            negations=negations,
            contrast=frozenset(fold(w) for w in data.get("contrast", [])),
            matcher=Matcher(terms),
            categories=tuple(categories),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise LexiconError(f"word list for {data.get('language', '?')}: {exc!r}") from exc


def load_lexicons(
    languages: Iterable[str],
    extra_dirs: Iterable[Path] = (),
    extensions: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Lexicon]:
    """Load ``<code>.toml`` for each language; a file in a later directory replaces a built-in."""
    dirs = [BUILTIN_DIR, *extra_dirs]
    out: dict[str, Lexicon] = {}
    for code in languages:
        try:
            found = load_first_toml(f"{code}.toml", dirs)
        except tomllib.TOMLDecodeError as exc:
            raise LexiconError(f"word list {code}.toml: {exc}") from exc
        data = found[0] if found else None
        if data is None:
            raise LexiconError(f"no word list for language {code!r} (looked for {code}.toml)")
        if extensions and code in extensions:
            data = _merge(data, extensions[code], code)
        out[code] = build_lexicon(data)
    return out


def available_languages(extra_dirs: Iterable[Path] = ()) -> list[str]:
    """Codes of every language that has a word list."""
    return sorted({p.stem for d in [BUILTIN_DIR, *extra_dirs] for p in d.glob("*.toml")})
