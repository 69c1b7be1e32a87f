"""The learned triage, applied: features of a text and a linear model over them, in pure Python.

The model is trained by learning/train.py (scikit-learn) on the team's own decisions and kept in
the journal as data, never as a pickle: the vocabulary with its inverse document frequencies,
one weight per feature, and the weights of the word lists' own evidence. Nothing in it can run
code, whoever wrote the row. The features here are exactly the ones the trainer used:

- word unigrams and bigrams and character 2-5-grams inside words, of the folded text with links,
  @handles and digits made generic ("day 12" and "day 3" are one feature);
- each block weighted as scikit-learn's TfidfVectorizer does (``sublinear_tf``, smoothed idf,
  l2 norm), so a score here equals the trainer's decision function;
- the word lists' verdict and scores (``RULE_FEATURES``), so a model trained on a few labels
  starts from what the word lists know and learns where they are wrong.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from core.model import Flag, Kind, Severity, Triage
from core.text import fold, tokens

FORMAT = "reclaim-linear-1"
_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_DIGITS = re.compile(r"\d+")
CHAR_SIZES = (2, 3, 4, 5)
RULE_FEATURES = (
    "rules_complaint", "rules_praise", "rules_question", "complaint_score", "praise_score",
    "question_score", "question_mark", "exclamation", "escalation", "rating",
)  # fmt: skip
UNSURE_BELOW = 0.5  # the learned model's line
UNSURE_FROM = 0.25  # not a complaint, but close enough that the team should see it
MIN_PER_LANGUAGE = (20, 5)  # labels in a language, and of each kind, before the model decides there
MAX_WEIGHT = 1e6  # no trained idf or weight comes near; a larger one is not a model of ours
MAX_TERMS = 500_000  # features in a stored model (training keeps 50,000)


class ModelError(ValueError):
    """A stored model that is not one this version can apply."""


def document(text: str, title: str | None = None) -> str:
    """The text triage reads: the title first when the body does not repeat it."""
    return text if not title or title.strip() in text else f"{title.strip()}. {text}"


def normalise(text: str) -> str:
    """Folded text with links, @handles and digits made generic."""
    text = _URL.sub(" url ", fold(text))
    return _DIGITS.sub("0", _HANDLE.sub(" atuser ", text))


def word_grams(norm: str) -> list[str]:
    """Word unigrams and bigrams of normalised text."""
    toks = tokens(norm)
    return toks + [f"{a} {b}" for a, b in itertools.pairwise(toks)]


def char_grams(norm: str) -> list[str]:
    """Character 2-5-grams inside each word, the word padded with a space on each side."""
    out: list[str] = []
    for tok in tokens(norm):
        w = f" {tok} "
        for n in CHAR_SIZES:
            out += [w[i : i + n] for i in range(len(w) - n + 1)]
    return out


def rule_features(triage: Triage, text: str, rating: float | None = None) -> list[float]:
    """The word lists' evidence as numbers, in the order of ``RULE_FEATURES``."""
    s = triage.scores
    return [
        float(triage.kind is Kind.COMPLAINT),
        float(triage.kind is Kind.PRAISE),
        float(triage.kind is Kind.QUESTION),
        math.log1p(max(s.get("complaint", 0.0), 0.0)),
        math.log1p(max(s.get("praise", 0.0), 0.0)),
        math.log1p(max(s.get("question", 0.0), 0.0)),
        float("?" in text),
        float("!" in text),
        float(Flag.LEGAL_THREAT in triage.flags or Flag.MANAGER_REQUEST in triage.flags),
        0.0 if rating is None else (3.0 - rating) / 2.0,
    ]


@dataclass(frozen=True, slots=True)
class Block:
    """One TF-IDF block: each known feature's idf and weight."""

    idf: dict[str, float]
    coef: dict[str, float]
    table: dict[str, tuple[float, float]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", {g: (w, self.coef[g]) for g, w in self.idf.items()})

    def score(self, grams: Sequence[str]) -> float:
        """The block's share of the decision: sublinear tf times idf, l2-normed, dotted with the weights."""
        table, dot, square = self.table, 0.0, 0.0
        for g, n in Counter(grams).items():
            entry = table.get(g)
            if entry is not None:
                v = entry[0] if n == 1 else (1.0 + math.log(n)) * entry[0]
                dot += v * entry[1]
                square += v * v
        return dot / math.sqrt(square) if square else 0.0

    def as_data(self) -> dict[str, list[Any]]:
        terms = sorted(self.idf)
        return {"terms": terms, "idf": [self.idf[t] for t in terms], "coef": [self.coef[t] for t in terms]}

    @classmethod
    def from_data(cls, name: str, data: Any) -> Block:
        if not isinstance(data, Mapping):
            raise ModelError(f"{name}: expected a table of terms, idf and coef")
        terms, idf, coef = data.get("terms"), data.get("idf"), data.get("coef")
        if not (isinstance(terms, list) and isinstance(idf, list) and isinstance(coef, list)):
            raise ModelError(f"{name}: terms, idf and coef must be lists")
        if not len(terms) == len(idf) == len(coef):
            raise ModelError(f"{name}: terms, idf and coef differ in length")
        if len(terms) > MAX_TERMS:
            raise ModelError(f"{name}: {len(terms)} terms, more than a model of ours has ({MAX_TERMS})")
        if not all(isinstance(t, str) for t in terms):
            raise ModelError(f"{name}: a term is not text")
        return cls(
            dict(zip(terms, _floats(name, idf), strict=True)), dict(zip(terms, _floats(name, coef), strict=True))
        )


def _floats(name: str, values: Sequence[Any]) -> list[float]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ModelError(f"{name}: {str(v)[:40]!r} is not a number")
        try:
            x = float(v)
        except OverflowError:
            raise ModelError(f"{name}: a number too large for a model") from None
        if not math.isfinite(x) or abs(x) > MAX_WEIGHT:
            raise ModelError(f"{name}: {x!r} is not a weight a trained model has")
        out.append(x)
    return out


@dataclass(frozen=True, slots=True)
class LearnedTriage:
    """A linear model over word, character and word-list features; ``id`` is its journal row."""

    words: Block
    chars: Block
    rules: tuple[float, ...]
    intercept: float
    id: int | None = None
    # the languages it learned enough of (MIN_PER_LANGUAGE labels, both kinds); in the others the
    # word lists go on deciding. Empty: every language (a model stored before languages were kept)
    languages: frozenset[str] = frozenset()

    def probability(self, text: str, triage: Triage, rating: float | None = None) -> float:
        """How likely the text is a complaint (0 to 1)."""
        norm = normalise(text)
        z = self.intercept + self.words.score(word_grams(norm)) + self.chars.score(char_grams(norm))
        z += sum(w * x for w, x in zip(self.rules, rule_features(triage, text, rating), strict=True))
        if math.isnan(z):
            return z
        return 1.0 / (1.0 + math.exp(-max(min(z, 500.0), -500.0)))

    def decide(self, triage: Triage, text: str, rating: float | None = None) -> Triage:
        """The word lists' triage with the complaint-or-not decision taken by this model; the
        words that pushed it most that way are kept as evidence."""
        if self.languages and triage.language not in self.languages:
            return triage
        p = self.probability(text, triage, rating)
        if not math.isfinite(p):  # never with a model that passed from_data; the word lists decide
            return triage
        return decided(triage, p, f"learned:{self.id or 0}", text, self.reasons(text, p >= UNSURE_BELOW))

    def reasons(self, text: str, complaint: bool, k: int = 3) -> list[str]:
        """The words and word pairs that pushed the decision most towards ``complaint``."""
        table, parts = self.words.table, []
        for g, n in Counter(word_grams(normalise(text))).items():
            entry = table.get(g)
            if entry is not None:
                parts.append(((entry[0] if n == 1 else (1.0 + math.log(n)) * entry[0]) * entry[1], g))
        toward = [(w if complaint else -w, g) for w, g in parts]
        return [g for w, g in sorted(toward, reverse=True)[:k] if w > 0]

    def as_data(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "words": self.words.as_data(),
            "chars": self.chars.as_data(),
            "rules": {"names": list(RULE_FEATURES), "coef": list(self.rules)},
            "intercept": self.intercept,
            "languages": sorted(self.languages),
        }

    @classmethod
    def from_data(cls, data: Any, model_id: int | None = None) -> LearnedTriage:
        """A model from its stored form; ModelError for anything else."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ModelError(f"not a {FORMAT} model")
        rules = data.get("rules")
        if not isinstance(rules, Mapping) or rules.get("names") != list(RULE_FEATURES):
            raise ModelError("rules: the word-list features differ from this version's")
        coef = rules.get("coef")
        if not isinstance(coef, list) or len(coef) != len(RULE_FEATURES):
            raise ModelError("rules: one weight per word-list feature")
        (intercept,) = _floats("intercept", [data.get("intercept")])
        words, chars = Block.from_data("words", data.get("words")), Block.from_data("chars", data.get("chars"))
        languages = data.get("languages", [])
        if not isinstance(languages, list) or not all(isinstance(x, str) and len(x) <= 16 for x in languages):
            raise ModelError("languages: a list of language codes")
        return cls(words, chars, tuple(_floats("rules", coef)), intercept, model_id, frozenset(languages))


def decided(triage: Triage, p: float, by: str, text: str, reasons: Sequence[str] = ()) -> Triage:
    """``triage`` with the kind a learned probability ``p`` gives. An escalation (a legal threat,
    a manager request) stays a complaint whatever the model says; the word lists' kind stays
    where both agree on "not a complaint"."""
    why = f": {', '.join(reasons)}" if reasons else ""
    evidence = (*triage.evidence, f"learned p={p:.2f}{why}")
    complaint = p >= UNSURE_BELOW or (
        triage.kind is Kind.COMPLAINT and bool({Flag.LEGAL_THREAT, Flag.MANAGER_REQUEST} & set(triage.flags))
    )
    if complaint:
        kind = Kind.COMPLAINT
        severity = triage.severity if triage.kind is Kind.COMPLAINT else Severity.NORMAL
    else:
        kind = triage.kind if triage.kind is not Kind.COMPLAINT else (Kind.QUESTION if "?" in text else Kind.OTHER)
        severity = Severity.LOW
    # the team should look: close to the line, nothing decided it, or the two models disagree
    unsure = (not complaint and p >= UNSURE_FROM) or kind is Kind.OTHER or kind is not triage.kind
    return replace(
        triage, kind=kind, severity=severity, evidence=evidence, decided_by=by, p_complaint=p, unsure=unsure,
        rules_kind=triage.kind if kind is not triage.kind else None,
    )  # fmt: skip
