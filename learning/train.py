"""Training and measuring the learned triage with scikit-learn.

``fit`` turns labelled texts into a ``core.learned.LearnedTriage`` (weights as data); the
rest measures it against the word lists the way the team will see it: out-of-fold predictions
in stratified k-fold cross-validation, and a learning curve where, at each size, the model that
would decide (chosen by an inner cross-validation on those labels alone) is scored too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from core.learned import MIN_PER_LANGUAGE, Block, LearnedTriage, char_grams, normalise, rule_features, word_grams
from core.model import Kind, Triage

C = 4.0  # inverse regularisation; the word lists' features keep a small model close to them
MIN_DF = 2
# the most frequent features kept: a stored model stays a few MB of JSON however many labels
MAX_WORDS, MAX_CHARS = 20_000, 30_000
SEED = 20261203


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text, with what the word lists said of it."""

    text: str
    complaint: bool
    triage: Triage
    weight: float = 1.0
    rating: float | None = None


@dataclass(frozen=True, slots=True)
class Scores:
    macro_f1: float
    complaint_f1: float
    precision: float
    recall: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(getattr(self, k), 4) for k in ("macro_f1", "complaint_f1", "precision", "recall")}


class _Features:
    """The analysed texts of a set of examples, computed once and sliced per fold."""

    def __init__(self, examples: Sequence[Example]) -> None:
        norms = [normalise(e.text) for e in examples]
        self.words = [word_grams(n) for n in norms]
        self.chars = [char_grams(n) for n in norms]
        self.rules = np.array([rule_features(e.triage, e.text, e.rating) for e in examples], dtype=np.float64)
        self.y = np.array([e.complaint for e in examples], dtype=bool)
        self.w = np.array([e.weight for e in examples], dtype=np.float64)
        self.rules_pred = np.array([e.triage.kind is Kind.COMPLAINT for e in examples], dtype=bool)
        self.languages = [e.triage.language for e in examples]


def _identity(grams: list[str]) -> list[str]:
    return grams


def _vectorizer(n_docs: int, most: int) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=_identity, sublinear_tf=True, min_df=MIN_DF if n_docs >= 50 else 1, max_features=most
    )


class _Model:
    def __init__(self, f: _Features, idx: np.ndarray, c: float = C) -> None:
        self.words, self.chars = _vectorizer(len(idx), MAX_WORDS), _vectorizer(len(idx), MAX_CHARS)
        x = sp.hstack([
            self.words.fit_transform([f.words[i] for i in idx]),
            self.chars.fit_transform([f.chars[i] for i in idx]),
            sp.csr_matrix(f.rules[idx]),
        ]).tocsr()  # fmt: skip
        self.clf = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=1000)
        self.clf.fit(x, f.y[idx], sample_weight=f.w[idx])
        self.languages = _languages([f.languages[i] for i in idx], f.y[idx])

    def predict(self, f: _Features, idx: np.ndarray) -> np.ndarray:
        x = sp.hstack([
            self.words.transform([f.words[i] for i in idx]),
            self.chars.transform([f.chars[i] for i in idx]),
            sp.csr_matrix(f.rules[idx]),
        ]).tocsr()  # fmt: skip
        pred = np.asarray(self.clf.decision_function(x) >= 0.0)
        elsewhere = np.array([f.languages[i] not in self.languages for i in idx], dtype=bool)
        pred[elsewhere] = f.rules_pred[idx][elsewhere]  # where it learned too little, the word lists decide
        return pred

    def learned(self) -> LearnedTriage:
        coef = self.clf.coef_[0]
        blocks, start = [], 0
        for vec in (self.words, self.chars):
            vocab: dict[str, int] = vec.vocabulary_
            idf = vec.idf_
            size = len(vocab)
            part = coef[start : start + size]
            blocks.append(
                Block({t: float(idf[i]) for t, i in vocab.items()}, {t: float(part[i]) for t, i in vocab.items()})
            )
            start += size
        rules = tuple(float(v) for v in coef[start:])
        return LearnedTriage(blocks[0], blocks[1], rules, float(self.clf.intercept_[0]), languages=self.languages)


def _languages(languages: list[str], y: np.ndarray) -> frozenset[str]:
    """The languages with enough labels of both kinds for the model to decide there."""
    total, each = MIN_PER_LANGUAGE
    out = set()
    for lang in set(languages):
        mask = np.array([x == lang for x in languages])
        complaints = int(y[mask].sum())
        if int(mask.sum()) >= total and min(complaints, int(mask.sum()) - complaints) >= each:
            out.add(lang)
    return frozenset(out)


def fit(examples: Sequence[Example]) -> LearnedTriage:
    """A model trained on every example (both kinds must be there)."""
    f = _Features(examples)
    if f.y.all() or not f.y.any():
        raise ValueError("training needs labels of both kinds: complaints and not complaints")
    return _Model(f, np.arange(len(examples))).learned()


def scores(y: np.ndarray, pred: np.ndarray, weight: np.ndarray | None = None) -> Scores:
    """Macro F1 over complaint / not, and the complaint class's F1, precision and recall."""
    macro = float(f1_score(y, pred, average="macro", sample_weight=weight, zero_division=0))
    p, r, f, _ = precision_recall_fscore_support(y, pred, average="binary", sample_weight=weight, zero_division=0)
    return Scores(macro, float(f), float(p), float(r))


def _folds(y: np.ndarray, k: int, seed: int = SEED) -> list[tuple[np.ndarray, np.ndarray]]:
    k = max(2, min(k, int(y.sum()), int((~y).sum())))
    return list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def _learned_oof(f: _Features, idx: np.ndarray, k: int) -> np.ndarray:
    """Out-of-fold learned predictions for ``idx`` (positions within idx)."""
    out = np.zeros(len(idx), dtype=bool)
    for train, test in _folds(f.y[idx], k):
        out[test] = _Model(f, idx[train]).predict(f, idx[test])
    return out


def prepared(examples: Sequence[Example]) -> _Features:
    """The examples analysed once, for ``learned_decides``."""
    return _Features(examples)


def learned_decides(f: _Features, idx: np.ndarray | None = None, k: int = 5) -> tuple[bool, float, float]:
    """Whether the learned model beats the word lists on these labels (all, or ``idx``) in
    k-fold cross-validation, by more than ``margin``; with both macro F1s (word lists, learned)."""
    idx = np.arange(len(f.y)) if idx is None else idx
    y, w = f.y[idx], f.w[idx]
    if y.all() or not y.any() or min(int(y.sum()), int((~y).sum())) < 2:
        rules = scores(y, f.rules_pred[idx], w).macro_f1
        return False, rules, 0.0
    rules = scores(y, f.rules_pred[idx], w).macro_f1
    learned = scores(y, _learned_oof(f, idx, k), w).macro_f1
    return learned > rules + margin(len(idx)), rules, learned


def margin(n: int) -> float:
    """How far the learned model must be ahead before it decides: about half a standard error of
    an F1 measured on ``n`` labels, so that a lucky split of a few labels does not hand it over."""
    return 0.5 / math.sqrt(max(n, 1))


@dataclass(frozen=True, slots=True)
class Evaluation:
    n: int
    rules: Scores
    learned: Scores
    curve: list[dict[str, float | int]]

    def as_dict(self) -> dict[str, object]:
        return {"n": self.n, "rules": self.rules.as_dict(), "learned": self.learned.as_dict(), "curve": self.curve}


def curve_sizes(n_train: int, first: int = 100) -> list[int]:
    """100, 200, 400 … labels, and every training label at the end."""
    sizes, size = [], first
    while size < n_train:
        sizes.append(size)
        size *= 2
    return [*sizes, n_train]


def evaluate(examples: Sequence[Example], folds: int = 10, with_curve: bool = True) -> Evaluation:
    """Word lists against the learned model in k-fold cross-validation, and the learning curve."""
    f = _Features(examples)
    if f.y.all() or not f.y.any():
        raise ValueError("evaluation needs labels of both kinds: complaints and not complaints")
    every = np.arange(len(examples))
    splits = _folds(f.y, folds)
    learned = np.zeros(len(examples), dtype=bool)
    for train, test in splits:
        learned[test] = _Model(f, train).predict(f, test)
    rules = scores(f.y, f.rules_pred)
    curve = _curve(f, splits) if with_curve else []
    return Evaluation(len(every), rules, scores(f.y, learned), curve)


def _curve(f: _Features, splits: list[tuple[np.ndarray, np.ndarray]]) -> list[dict[str, float | int]]:
    rng = np.random.default_rng(SEED)
    n_train = min(len(train) for train, _ in splits)
    out: list[dict[str, float | int]] = []
    for size in curve_sizes(n_train):
        learned = np.zeros(len(f.y), dtype=bool)
        deciding = np.zeros(len(f.y), dtype=bool)
        for train, test in splits:
            sub = train if size >= len(train) else np.sort(rng.choice(train, size=size, replace=False))
            if f.y[sub].all() or not f.y[sub].any():
                learned[test] = deciding[test] = f.rules_pred[test]
                continue
            learned[test] = _Model(f, sub).predict(f, test)
            takes_over, _, _ = learned_decides(f, sub)
            deciding[test] = learned[test] if takes_over else f.rules_pred[test]
        out.append({
            "labels": int(size),
            "rules": round(scores(f.y, f.rules_pred).macro_f1, 4),
            "learned": round(scores(f.y, learned).macro_f1, 4),
            "deciding": round(scores(f.y, deciding).macro_f1, 4),
        })  # fmt: skip
    return out
