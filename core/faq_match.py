"""Which FAQ entries answer a question best: character n-grams of the question against each
entry's question, weighted by how rare each n-gram is among the entries (TF-IDF, cosine)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from core.learned import char_grams, normalise

MIN_SCORE = 0.2  # below this an entry answers something else


def _vector(text: str) -> Counter[str]:
    return Counter(g for g in char_grams(normalise(text)) if len(g) >= 3)


def best(question: str, entries: Sequence[tuple[int, str]], k: int = 3) -> list[tuple[int, float]]:
    """Up to ``k`` (entry id, score) pairs, best first, each at least ``MIN_SCORE``."""
    if not entries:
        return []
    vectors = [(eid, _vector(q)) for eid, q in entries]
    df: Counter[str] = Counter(g for _, v in vectors for g in v)
    n = len(vectors)

    def weigh(v: Counter[str]) -> dict[str, float]:
        w = {g: (1 + math.log(c)) * (math.log((1 + n) / (1 + df[g])) + 1) for g, c in v.items()}
        norm = math.sqrt(sum(x * x for x in w.values())) or 1.0
        return {g: x / norm for g, x in w.items()}

    asked = weigh(_vector(question))
    scored = []
    for eid, v in vectors:
        w = weigh(v)
        score = sum(x * w.get(g, 0.0) for g, x in asked.items())
        if score >= MIN_SCORE:
            scored.append((eid, round(score, 4)))
    return sorted(scored, key=lambda p: -p[1])[:k]
