"""The learned triage: weights kept as data and applied in pure Python exactly as trained;
a stored model that is not one is refused; the decision keeps escalations; and a model decides
only while it beats the word lists on the team's labels."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from core.learned import LearnedTriage, ModelError, decided
from core.lifecycle import Event as E
from core.model import Flag, Kind
from core.triage import Triager
from learning.train import Example, _Features, _Model, evaluate, fit
from sandbox.labelled import make
from services.learning import Learning, label_decision, rating_label
from storage.tables import Mention
from tests.fakes import FakeStore, FakeUnitOfWork

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
TRIAGER = Triager(["en", "ru", "da"])


def _examples(n: int = 200) -> list[Example]:
    return [Example(text, label, TRIAGER.classify(text)) for text, label, _ in make(n)]


def test_pure_python_scores_are_the_trainers() -> None:
    data = _examples(160)
    f = _Features(data)
    trained = _Model(f, np.arange(len(data)))
    model = LearnedTriage.from_data(json.loads(json.dumps(trained.learned().as_data())))
    x_words, x_chars = trained.words.transform(f.words), trained.chars.transform(f.chars)
    import scipy.sparse as sp

    expected = trained.clf.decision_function(sp.hstack([x_words, x_chars, sp.csr_matrix(f.rules)]).tocsr())
    for example, z in zip(data, expected, strict=True):
        p = model.probability(example.text, example.triage)
        assert math.isclose(p, 1 / (1 + math.exp(-z)), rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(format="pickle"),
        lambda d: d["words"].update(coef=d["words"]["coef"][:-1]),
        lambda d: d["chars"]["idf"].__setitem__(0, float("nan")),
        lambda d: d["chars"]["idf"].__setitem__(0, "__import__('os')"),
        lambda d: d["rules"].update(names=["rating"]),
        lambda d: d.update(intercept=None),
        lambda d: d.update(words=[1, 2, 3]),
    ],
)
def test_a_stored_model_that_is_not_one_is_refused(change: Any) -> None:
    data = json.loads(json.dumps(fit(_examples(80)).as_data()))
    change(data)
    with pytest.raises(ModelError):
        LearnedTriage.from_data(data)


def test_the_model_decides_complaint_or_not_and_escalations_stay() -> None:
    threat = TRIAGER.classify("I will see you in court, I want to speak to a manager")
    assert threat.kind is Kind.COMPLAINT and Flag.LEGAL_THREAT in threat.flags
    assert decided(threat, 0.01, "learned:1", "x").kind is Kind.COMPLAINT
    other = TRIAGER.classify("@nordlys the locker stays shut with my code")
    assert other.kind is Kind.OTHER
    flipped = decided(other, 0.9, "learned:3", "x")
    assert flipped.kind is Kind.COMPLAINT and flipped.rules_kind is Kind.OTHER and flipped.decided_by == "learned:3"
    assert "learned p=0.90" in flipped.evidence
    plain = TRIAGER.classify("Terrible service, I want a refund")
    not_now = decided(plain, 0.3, "learned:3", "Terrible service?")
    assert not_now.kind is Kind.QUESTION and not_now.unsure and not_now.severity.value == "low"


def test_stars_and_staff_decisions_are_labels() -> None:
    assert [rating_label(r) for r in (1, 2, 3, 4, 5, None)] == [True, True, None, False, False, None]
    store = FakeStore()
    uow = FakeUnitOfWork(store)
    label_decision(uow, 5, E.APPROVED, None, "anna", NOW)
    label_decision(uow, 6, E.REJECTED, "not_complaint", "anna", NOW)
    label_decision(uow, 7, E.REJECTED, "other:wrong shop", "anna", NOW)
    label_decision(uow, 8, E.CLOSED, None, "anna", NOW)
    assert {m: (lb.complaint, lb.origin) for m, lb in store.labels.items()} == {
        5: (True, "approve"), 6: (False, "reject:not_compl")}  # fmt: skip


def _journal(store: FakeStore, labelled: list[tuple[str, bool, str]]) -> dict[str, list[int]]:
    ids: dict[str, list[int]] = {"hidden": [], "plain": [], "other": []}
    uow = FakeUnitOfWork(store)
    for text, label, group in labelled:
        mid = next(store.ids)
        store.mentions[mid] = Mention(id=mid, text=text, title=None, rating=None, language="en")
        uow.labels.put(mid, label, 1.0, "approve" if label else "reject:not_complaint", "anna", NOW)
        ids[group].append(mid)
    return ids


def test_the_learned_model_takes_over_and_hands_back() -> None:
    store = FakeStore()
    learning = Learning(lambda: FakeUnitOfWork(store), TRIAGER, min_labels=100, folds=5)
    first = _journal(store, make(60))
    assert learning.train(NOW).model_id is None  # too few labels: the word lists decide
    ids = _journal(store, make(300, seed=8))
    for group, mids in first.items():
        ids[group] += mids
    done = learning.train(NOW)
    assert done.decides and done.learned_f1 > done.rules_f1 + 0.2
    uow = FakeUnitOfWork(store)
    model = learning.deciding(uow)
    assert model is not None and model.id == done.model_id
    hidden = TRIAGER.classify("@nordlys the pickup wall on Vesterbro stays shut with my code")
    assert hidden.kind is not Kind.COMPLAINT
    assert model.decide(hidden, "@nordlys the pickup wall on Vesterbro stays shut with my code").kind is Kind.COMPLAINT
    assert learning.status()["deciding"] == f"learned model #{done.model_id}"
    # the team now says the locker and firmware reports are not complaints: the word lists were right
    for mid in ids["hidden"]:
        uow.labels.put(mid, False, 1.0, "ignore", "anna", NOW + timedelta(hours=1))
    again = learning.train(NOW + timedelta(hours=2))
    assert not again.decides and again.rules_f1 >= again.learned_f1
    assert learning.deciding(FakeUnitOfWork(store)) is None
    assert learning.status()["deciding"] == "word lists"


def test_evaluation_reports_both_and_a_curve_that_never_falls_below_the_word_lists() -> None:
    result = evaluate(_examples(400), folds=5).as_dict()
    assert result["n"] == 400 and result["learned"]["macro_f1"] > result["rules"]["macro_f1"]
    assert [p["labels"] for p in result["curve"]] == [100, 200, 320]
    assert all(p["deciding"] >= p["rules"] for p in result["curve"])


def test_disagreement_is_unsure_and_edits_and_stars_count_as_labels() -> None:
    plain = TRIAGER.classify("Terrible service, I want a refund")
    overruled = decided(plain, 0.05, "learned:3", "Terrible service")
    assert overruled.kind is Kind.OTHER and overruled.unsure and overruled.rules_kind is Kind.COMPLAINT
    store = FakeStore()
    label_decision(FakeUnitOfWork(store), 9, E.EDITED, None, "anna", NOW)
    assert store.labels[9].complaint and store.labels[9].origin == "edit"
    for n, stars in enumerate((1, 2, 3, 4, 5, None)):
        store.mentions[100 + n] = Mention(id=100 + n, text=f"review {n}", rating=stars, fetched_at=NOW, language="en")
    learning = Learning(lambda: FakeUnitOfWork(store), TRIAGER, min_labels=5)
    status = learning.status()
    assert status["labels"] == 1 and status["ratings"] == 4 and status["new_labels"] == 5
    assert learning.due(min_new=25)  # 1 decision and 4 reviews' stars reach min_labels 5


def test_only_the_newest_models_are_kept() -> None:
    store = FakeStore()
    learning = Learning(lambda: FakeUnitOfWork(store), TRIAGER, min_labels=100, folds=3)
    _journal(store, make(200))
    ids = [learning.train(NOW + timedelta(minutes=n)).model_id for n in range(5)]
    assert [m.id for m in store.models] == ids[-3:]


def test_the_model_decides_only_in_the_languages_it_learned() -> None:
    model = LearnedTriage.from_data(json.loads(json.dumps(fit(_examples(200)).as_data())))
    assert model.languages == {"en"}
    danish = TRIAGER.classify("Skabet på Nørreport åbner ikke med min kode")
    assert danish.language == "da" and model.decide(danish, "Skabet på Nørreport åbner ikke med min kode") is danish
    english = TRIAGER.classify("@nordlys the locker on Vesterbro stays shut with my code")
    assert model.decide(english, "@nordlys the locker on Vesterbro stays shut with my code").decided_by.startswith(
        "learned"
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["words"].update(idf=[1e200] * len(d["words"]["idf"])),
        lambda d: d.update(intercept=10**400),
        lambda d: d["rules"].update(coef=[10**400] * len(d["rules"]["coef"])),
        lambda d: d["chars"].update(terms=["x"] * 600_000, idf=[1.0] * 600_000, coef=[0.0] * 600_000),
        lambda d: d.update(languages="en"),
    ],
)
def test_weights_no_trained_model_has_are_refused(change: Any) -> None:
    data = json.loads(json.dumps(fit(_examples(80)).as_data()))
    change(data)
    with pytest.raises(ModelError):
        LearnedTriage.from_data(data)


def test_a_model_that_cannot_be_applied_leaves_the_word_lists_deciding(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeStore()
    learning = Learning(lambda: FakeUnitOfWork(store), TRIAGER, min_labels=100, folds=3)
    _journal(store, make(200))
    done = learning.train(NOW)
    assert done.decides
    store.models[-1].data = {"format": "reclaim-linear-1", "words": "x"}
    learning._model = None  # a fresh process
    assert learning.deciding(FakeUnitOfWork(store)) is None
    assert learning.deciding(FakeUnitOfWork(store)) is None
    assert [r.message for r in caplog.records].count(next(r.message for r in caplog.records)) == 1  # said once
    assert learning.status()["deciding"] == f"word lists (model #{done.model_id} cannot be applied)"
