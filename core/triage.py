"""Triage: a pure, explainable decision on language, kind, flags, severity and category."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.lexicon import Lexicon, Match, load_lexicons
from core.model import Flag, Kind, Severity, Triage
from core.text import fold, sentence_starts, token_spans, tokens

_CYRILLIC = re.compile(r"[а-я]")
_LATIN = re.compile(r"[a-zæøåäöüéèàç]")
NEGATION_WINDOW = 3


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Score thresholds; the defaults were tuned on ``tests/data/triage_eval.jsonl``."""

    complaint: float = 2.0
    praise: float = 1.0
    mixed_margin: float = 2.0
    mixed_ratio: float = 0.6
    high_score: float = 9.0
    low_score: float = 2.0


@dataclass(slots=True)
class _Scores:
    complaint: float = 0.0
    praise: float = 0.0
    question: float = 0.0


class Triager:
    """Classifies texts with the word lists of the configured languages."""

    def __init__(
        self,
        languages: Sequence[str] = ("en", "ru", "da"),
        *,
        extra_dirs: Iterable[Path] = (),
        extensions: Mapping[str, Mapping[str, Any]] | None = None,
        default_language: str | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        if not languages:
            raise ValueError("triage needs at least one language")
        self.languages = list(languages)
        self.lexicons = load_lexicons(self.languages, extra_dirs, extensions)
        self.default_language = default_language or self.languages[0]
        self.thresholds = thresholds or Thresholds()

    def detect_language(self, folded: str, toks: Sequence[str], hint: str | None = None) -> str:
        """The configured language the text is most likely written in."""
        cyr = len(_CYRILLIC.findall(folded))
        lat = len(_LATIN.findall(folded))
        script = "cyrillic" if cyr > lat else "latin"
        best, best_score = None, 0.0
        for code, lex in self.lexicons.items():
            if lex.script != script and (cyr or lat):
                continue
            score = float(sum(1 for t in toks if t in lex.stopwords))
            score += 2.0 * sum(folded.count(ch) for ch in lex.letters)
            if lex.suffixes:
                score += 0.5 * sum(1 for t in toks if len(t) > 4 and t.endswith(lex.suffixes))
            if code == hint:
                score += 1.5
            if score > best_score:
                best, best_score = code, score
        if best is not None:
            return best
        if hint is not None and hint in self.lexicons:
            return hint
        if self.lexicons[self.default_language].script != script:
            same = [c for c, lx in self.lexicons.items() if lx.script == script]
            if same:
                return same[0]
        return self.default_language

    @staticmethod
    def _negated(toks: Sequence[str], index: int, lex: Lexicon, sentence: int = 0) -> bool:
        """A negation word shortly before ``index``, in the same sentence (from ``sentence``) and
        after any contrast word ("not fast, but awful": the awful stands)."""
        window = list(toks[max(index - NEGATION_WINDOW, sentence, 0) : index])
        for i in range(len(window) - 1, -1, -1):
            if window[i] in lex.contrast:
                window = window[i + 1 :]
                break
        return any(t in lex.negations for t in window)

    def _score(
        self, lex: Lexicon, toks: Sequence[str], matches: list[Match], starts: Sequence[int] = ()
    ) -> tuple[_Scores, list[str]]:
        scores, evidence = _Scores(), []
        for m in matches:
            group, text = m.term.group, " ".join(toks[m.start : m.end])
            if group not in ("complaint", "praise", "question"):
                continue
            if group == "question":
                scores.question += 1
                continue
            sentence = starts[bisect.bisect_right(starts, m.start) - 1] if starts else 0
            negated = not m.term.has_negation and self._negated(toks, m.start, lex, sentence)
            if group == "complaint" and not negated:
                scores.complaint += m.term.weight
                evidence.append(f"+{text}")
            elif group == "complaint":
                scores.praise += m.term.weight / 2
                evidence.append(f"-{text}")
            elif negated:
                scores.complaint += m.term.weight
                evidence.append(f"+not {text}")
            else:
                scores.praise += m.term.weight
                evidence.append(f"~{text}")
        return scores, evidence

    def _kind(self, s: _Scores, flags: Sequence[Flag], has_qmark: bool) -> Kind:
        t = self.thresholds
        if Flag.LEGAL_THREAT in flags or Flag.MANAGER_REQUEST in flags:
            return Kind.COMPLAINT
        if s.complaint >= t.complaint and (
            s.complaint >= s.praise or s.complaint >= t.mixed_ratio * s.praise + t.mixed_margin
        ):
            return Kind.COMPLAINT
        if (has_qmark or s.question > 0) and s.praise < 2 * t.praise + 1:
            return Kind.QUESTION
        if s.praise >= t.praise and s.praise > s.complaint:
            return Kind.PRAISE
        if has_qmark or s.question > 0:
            return Kind.QUESTION
        return Kind.OTHER

    def _severity(self, kind: Kind, s: _Scores, flags: Sequence[Flag], groups: Counter[str]) -> Severity:
        if kind is not Kind.COMPLAINT:
            return Severity.LOW
        if Flag.LEGAL_THREAT in flags or groups["severity:critical"]:
            return Severity.CRITICAL
        if (
            Flag.MANAGER_REQUEST in flags
            or Flag.PROFANITY in flags
            or groups["severity:high"]
            or s.complaint >= self.thresholds.high_score
        ):
            return Severity.HIGH
        if s.complaint <= self.thresholds.low_score:
            return Severity.LOW
        return Severity.NORMAL

    @staticmethod
    def _category(lex: Lexicon, groups: Counter[str]) -> str:
        best, best_hits = "other", 0
        for name in lex.categories:
            hits = groups[f"category:{name}"]
            if hits > best_hits:
                best, best_hits = name, hits
        return best

    def mask_profanity(self, text: str, language: str | None = None) -> str:
        """``text`` with every word on the language's profanity list masked ("f***"), for
        excerpts shown to managers; the rest is left as it was written."""
        lang = language if language in self.lexicons else self.detect_language(fold(text), tokens(fold(text)))
        spans = token_spans(text)
        words = [fold(text[a:b]) for a, b in spans]  # one folded word per token, so indexes line up
        profane = f"flag:{Flag.PROFANITY.value}"
        matches = [m for m in self.lexicons[lang].matcher.find(words) if m.term.group == profane]
        flagged = sorted({i for m in matches for i in range(m.start, m.end)})
        out, last = [], 0
        for i in flagged:
            a, b = spans[i]
            out += [text[last:a], text[a] + "*" * (b - a - 1)]
            last = b
        return "".join([*out, text[last:]])

    def classify(
        self,
        text: str,
        *,
        title: str | None = None,
        rating: float | None = None,
        language_hint: str | None = None,
    ) -> Triage:
        """Decide everything triage decides about one mention."""
        full = text if not title or title.strip() in text else f"{title.strip()}. {text}"
        folded = fold(full)
        toks = tokens(folded)
        starts = sentence_starts(folded)
        hint = language_hint.split("-")[0].lower() if language_hint else None
        lang = self.detect_language(folded, toks, hint)
        lex = self.lexicons[lang]
        matches = lex.matcher.find(toks)
        groups = Counter(m.term.group for m in matches)
        scores, evidence = self._score(lex, toks, matches, starts)
        flags = tuple(f for f in Flag if groups[f"flag:{f.value}"])
        topical = any(g.startswith("category:") for g in groups)
        loose_negations = sum(1 for t in toks if t in lex.negations)
        if topical and loose_negations and scores.praise == 0:
            scores.complaint += 1  # "closed my ticket without answering": a problem told plainly
            evidence.append("negation+topic")
        if Flag.PROFANITY in flags:
            scores.complaint += 2
        if rating is not None:
            if rating <= 2:
                scores.complaint += 4
            elif rating < 3.5:
                scores.complaint += 1
            else:
                scores.praise += 3
            evidence.append(f"rating={rating:g}")
        kind = self._kind(scores, flags, "?" in full)
        return Triage(
            language=lang,
            kind=kind,
            flags=flags,
            severity=self._severity(kind, scores, flags, groups),
            category=self._category(lex, groups),
            scores={
                "complaint": scores.complaint,
                "praise": scores.praise,
                "question": scores.question,
            },
            evidence=tuple(evidence),
            # the team should see it: nothing decided it, or a complaint's words were outweighed
            unsure=kind is Kind.OTHER or (kind is not Kind.COMPLAINT and scores.complaint > 0),
        )
