"""Triage that learns: the team's decisions become labels, a model is trained on them, and it
decides in place of the word lists only while its cross-validated score on those labels beats
theirs. Every decision still keeps its evidence (core/learned.py adds the model's probability).

Labels: approving or editing a draft, posting by hand and It's a complaint say "complaint";
rejecting as "not a complaint" or spam, Ignore, Answer and Thank say "not a complaint"; a review's
stars say so with a lower weight (1-2 complaint, 4-5 not) unless a person decided.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.learned import LearnedTriage, ModelError, document
from core.lifecycle import Event as E
from core.model import Triage
from storage.tables_triage import TriageModel
from storage.uow import UnitOfWork
from storage.uow_triage import Labelled

if TYPE_CHECKING:
    from core.triage import Triager
    from learning.train import Example

log = logging.getLogger("reclaim.learning")
Classify = Callable[[str, str | None, float | None, str | None], Triage]

# a staff decision on a complaint card → what it says of the mention (None: nothing)
_EVENT_LABELS = {E.APPROVED: ("approve", True), E.EDITED: ("edit", True), E.POSTED: ("posted", True)}
_REJECT_LABELS = {"not_complaint": False, "spam": False, "duplicate": True}


STARS = (2.0, 4.0)  # at most 2 stars: a complaint; at least 4: not


def rating_label(rating: float | None) -> bool | None:
    """What a review's stars say: 1-2 a complaint, 4-5 not, 3 (or none) nothing."""
    if rating is None:
        return None
    return True if rating <= STARS[0] else False if rating >= STARS[1] else None


def label_decision(uow: UnitOfWork, mention_id: int | None, event: E | None, reject_reason: str | None,
                   actor: str, now: datetime) -> None:  # fmt: skip
    """Label the complaint's mention by a staff decision on its card, when the decision says
    whether it is a complaint."""
    if mention_id is None:
        return
    if event is E.REJECTED and reject_reason is not None:
        code = reject_reason.partition(":")[0]
        if code in _REJECT_LABELS:
            uow.labels.put(mention_id, _REJECT_LABELS[code], 1.0, f"reject:{code}"[:16], actor, now)
        return
    if event in _EVENT_LABELS:
        origin, complaint = _EVENT_LABELS[event]
        uow.labels.put(mention_id, complaint, 1.0, origin, actor, now)


@dataclass(frozen=True, slots=True)
class Trained:
    """What one training did."""

    labels: int
    complaints: int
    rules_f1: float
    learned_f1: float
    decides: bool
    seconds: float
    model_id: int | None  # None: too few labels, no model was made


def examples(rows: list[Labelled], classify: Classify, rating_weight: float) -> list[Example]:
    """Training examples from labelled mentions; a mention with stars but no decision counts with
    ``rating_weight``, one with neither is left out."""
    from learning.train import Example

    out = []
    for r in rows:
        complaint, weight = r.complaint, r.weight
        if complaint is None:
            complaint, weight = rating_label(r.rating), rating_weight
        if complaint is None:
            continue
        text = document(r.text, r.title)
        out.append(Example(text, complaint, classify(r.text, r.title, r.rating, r.language), weight, r.rating))
    return out


class Learning:
    """The training use case and the model that decides at ingest."""

    def __init__(self, uow: Callable[[], UnitOfWork], triager: Triager, *, min_labels: int = 100,
                 folds: int = 5, rating_weight: float = 0.3) -> None:  # fmt: skip
        self.uow, self.triager = uow, triager
        self.min_labels, self.folds, self.rating_weight = min_labels, folds, rating_weight
        self._lock = threading.Lock()
        self._model: LearnedTriage | None = None
        self._broken: int | None = None  # a model that could not be applied (logged once)

    def classify(self, text: str, title: str | None, rating: float | None, language: str | None) -> Triage:
        return self.triager.classify(text, title=title, rating=rating, language_hint=language)

    def train(self, now: datetime) -> Trained:
        """Train on every label; the new model decides if it beats the word lists in
        cross-validation on these labels, else the word lists decide from now on."""
        from learning.train import fit, learned_decides, prepared

        with self.uow() as uow:
            rows = uow.labels.training()
        data = examples(rows, self.classify, self.rating_weight)
        complaints = sum(1 for e in data if e.complaint)
        if len(data) < self.min_labels or complaints in (0, len(data)):
            return Trained(len(data), complaints, 0.0, 0.0, False, 0.0, None)
        started = time.perf_counter()
        decides, rules_f1, learned_f1 = learned_decides(prepared(data), k=self.folds)
        model = fit(data)
        seconds = time.perf_counter() - started
        row = TriageModel(trained_at=now, labels=len(data), complaints=complaints, rules_f1=rules_f1,
                          learned_f1=learned_f1, decides=decides, seconds=seconds, data=model.as_data())  # fmt: skip
        with self.uow() as uow:
            model_id = uow.models.add(row)
        log.info("triage trained on %d labels: word lists %.3f, learned %.3f; %s decide", len(data), rules_f1,
                 learned_f1, "learned" if decides else "word lists")  # fmt: skip
        return Trained(len(data), complaints, rules_f1, learned_f1, decides, seconds, model_id)

    def status(self) -> dict[str, Any]:
        """Labels, the newest model's scores, and which model decides (CLI and dashboard)."""
        with self.uow() as uow:
            newest = uow.models.newest()
            applies = newest is not None and newest.decides and self.deciding(uow) is not None
            since = newest.trained_at if newest is not None else None
            total, complaints = uow.labels.counts()
            fresh, _ = uow.labels.counts(since)
            rated, rated_fresh = uow.labels.rated(*STARS), uow.labels.rated(*STARS, since)
        model = None
        if newest is not None:
            model = {
                "id": newest.id, "trained_at": newest.trained_at.isoformat(), "labels": newest.labels,
                "complaints": newest.complaints, "rules_f1": round(newest.rules_f1, 4),
                "learned_f1": round(newest.learned_f1, 4), "decides": newest.decides,
                "seconds": round(newest.seconds, 2),
            }  # fmt: skip
        deciding = "word lists"
        if newest is not None and newest.decides:
            broken = f"word lists (model #{newest.id} cannot be applied)"
            deciding = f"learned model #{newest.id}" if applies else broken
        return {"labels": total, "complaints": complaints, "ratings": rated, "new_labels": fresh + rated_fresh,
                "min_labels": self.min_labels, "model": model, "deciding": deciding}  # fmt: skip

    def due(self, min_new: int) -> bool:
        """Enough new labels since the last training (or enough labels and no model yet)."""
        with self.uow() as uow:
            newest = uow.models.newest()
            since = newest.trained_at if newest is not None else None
            total = uow.labels.counts()[0] + uow.labels.rated(*STARS)
            fresh = uow.labels.counts(since)[0] + uow.labels.rated(*STARS, since)
        if newest is None:
            return total >= self.min_labels
        return fresh >= min_new

    def deciding(self, uow: UnitOfWork) -> LearnedTriage | None:
        """The learned model that decides now, loaded once per new model (None: word lists). A
        model that cannot be applied is said once in the log and left alone: the word lists decide."""
        model_id = uow.models.deciding_id()
        if model_id is None:
            return None
        with self._lock:
            if self._model is not None and self._model.id == model_id:
                return self._model
            if model_id == self._broken:
                return None
        try:
            data = uow.models.weights(model_id)
            model = LearnedTriage.from_data(data, model_id) if data is not None else None
        except (ModelError, ValueError, TypeError, OverflowError, RecursionError, MemoryError) as exc:
            log.error("triage model %d cannot be applied (%s); the word lists decide", model_id, str(exc)[:200])
            with self._lock:
                self._broken = model_id
            return None
        with self._lock:
            self._model = model
        return model
