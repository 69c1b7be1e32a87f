"""Issue 13's targets for the learned triage, printed by bench/triage.py.

- the word lists alone (macro F1 >= 0.78 on a support-tweet set given with --csv) and the
  learned model in k-fold cross-validation (>= 0.85);
- at every point of the learning curve from 100 labels, the deciding model's macro F1 is at
  least the word lists' (the model decides only when an inner cross-validation says it beats them);
- classification with the learned model >= 2,000 texts/s, beside the word lists alone (the
  baseline, same run); training on 10,000 labels in under 60 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.learned import LearnedTriage  # noqa: E402
from core.triage import Triager  # noqa: E402
from learning.train import Example, evaluate, fit  # noqa: E402
from reclaim.labelled_csv import CsvError, read_labelled  # noqa: E402
from sandbox.labelled import make  # noqa: E402


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--csv")
    p.add_argument("--text-column")
    p.add_argument("--label-column")
    p.add_argument("--folds", type=int, default=10)
    return p.parse_known_args()[0]


def _speed(triager: Triager, model: LearnedTriage, texts: list[str]) -> tuple[float, float]:
    """Texts per second: the word lists alone, and the word lists with the learned model."""
    rounds = max(1, 4000 // len(texts))
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            triager.classify(text)
    rules = rounds * len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            model.decide(triager.classify(text), text)
    return rules, rounds * len(texts) / (time.perf_counter() - started)


def main(triager: Triager, suite: list[tuple[str, bool]]) -> int:
    args = _args()
    try:
        rows = read_labelled(Path(args.csv), args.text_column, args.label_column) if args.csv else suite
    except CsvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    where = args.csv or "the suite's labelled sets (en, ru, da)"
    examples = [Example(text, label, triager.classify(text)) for text, label in rows]
    started = time.perf_counter()
    result = evaluate(examples, folds=args.folds)
    took = time.perf_counter() - started
    print(f"\nLearned triage on {where}: {result.n} texts, {args.folds}-fold cross-validation ({took:.0f} s)")
    for name, s in (("word lists", result.rules), ("learned", result.learned)):
        print(f"  {name:10s} macro F1 {s.macro_f1:.3f}  complaint F1 {s.complaint_f1:.3f}  "
              f"precision {s.precision:.3f}  recall {s.recall:.3f}")  # fmt: skip
    if args.csv:
        print(f"  targets on a support-tweet set: word lists >= 0.78 ({result.rules.macro_f1:.3f}), "
              f"learned >= 0.85 ({result.learned.macro_f1:.3f})")  # fmt: skip
    else:
        print("  (the 0.78 / 0.85 targets are for a support-tweet set given with --csv; the suite's sets are "
              "the text the word lists were written against, so these figures are not an estimate)")  # fmt: skip
    never_worse = all(p["deciding"] >= p["rules"] for p in result.curve)
    print("  learning curve (labels: word lists / learned / deciding):")
    for p in result.curve:
        print(f"    {p['labels']:>6}: {p['rules']:.3f} / {p['learned']:.3f} / {p['deciding']:.3f}")
    print(f"  the deciding model is never below the word lists: {'yes' if never_worse else 'NO'}")
    big = _ten_thousand(triager, examples, bool(args.csv))
    started = time.perf_counter()
    model = fit(big)
    took = time.perf_counter() - started
    rules_speed, learned_speed = _speed(triager, model, [t for t, _ in rows[:500]])
    size = len(model.words.idf) + len(model.chars.idf)
    print(f"  classification: {learned_speed:,.0f} texts/s with the learned model ({size:,} features), "
          f"{rules_speed:,.0f} texts/s word lists alone (baseline, {learned_speed / rules_speed:.2f}x); "
          "target >= 2,000")  # fmt: skip
    print(f"  training on {len(big):,} labels: {took:.1f} s (target < 60 s)")
    return 0


def _ten_thousand(triager: Triager, examples: list[Example], real: bool) -> list[Example]:
    """10,000 labels: the given texts drawn again with a fifth of their words dropped (so the
    vocabulary is the real one), or the sandbox's templated company when no file was given."""
    if not real:
        return [Example(text, label, triager.classify(text)) for text, label, _ in make(10_000, seed=11)]
    rng = random.Random(11)
    out = []
    for _ in range(10_000):
        e = rng.choice(examples)
        words = [w for w in e.text.split() if rng.random() > 0.2] or e.text.split()
        text = " ".join(words)
        out.append(Example(text, e.complaint, triager.classify(text)))
    return out
