"""The mentions lane over a real journal: a poll puts questions, praise and unsure mentions in the
lane with a card each; `reclaim mentions promote` makes one a complaint with a draft, once, its
clock counted from when it was seen; and a trained model that beats the word lists decides at
the next poll, with its evidence kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.outbox import Alert, MentionCard
from reclaim.cli import main
from sandbox.labelled import make
from sandbox.sites import Page, SiteServer
from storage.review import collect
from storage.tables import Complaint, Draft, Event, Mention, Outbox
from storage.tables_triage import Label, TriageModel
from tests.conftest import poll_all as poll
from tests.integration.test_poll import feed

ITEMS = [
    ("1", "Nordlys order never arrived", "Three weeks and nothing. I want my money back."),
    ("2", "Nordlys is great", "Fantastic quality, fast delivery, thank you!"),
    ("3", "Nordlys question", "Do you ship to Iceland?"),
    ("4", "Nordlys locker", "The Nordlys locker at Norreport stays shut with my code"),
]


def _config(tmp_path: Path, db_url: str, url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"brand: {{name: Nordlys}}\ndatabase: {{url: '{db_url}'}}\nweb: {{enabled: false}}\n"
        f"polling: {{workers: 0}}\nsources:\n  - {{name: blog, kind: rss, url: '{url}'}}\n",
        encoding="utf-8",
    )
    return path


def test_the_lane_and_promote(db_url: str, site: SiteServer, make_app: Any, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    url = site.add("/feed.xml", Page(feed(*ITEMS)))
    app = make_app(db_url, [{"name": "blog", "kind": "rss", "url": url}])
    (outcome,) = poll(app)
    assert outcome.complaints == 1
    with app.sessions() as s:
        by_ext = {m.external_id: m for m in s.scalars(select(Mention))}
        assert {e: m.lane for e, m in by_ext.items()} == {"1": None, "2": "open", "3": "open", "4": "open"}
        assert by_ext["4"].kind == "other" and by_ext["4"].triage["unsure"] is True
        cards = {o.key for o in s.scalars(select(Outbox).where(Outbox.kind == "mention"))}
        assert cards == {f"mention:{by_ext[e].id}" for e in ("2", "3", "4")}
    locker = by_ext["4"].id
    run = ["--config", str(_config(tmp_path, db_url, url)), "mentions", "promote", str(locker), "--json"]
    capsys.readouterr()
    assert main(run) == 0
    first = json.loads(capsys.readouterr().out)
    assert set(first) == {"complaint_id"}  # the contract's JSON, nothing more
    assert main(run) == 0
    assert json.loads(capsys.readouterr().out) == first  # promoting twice changes nothing
    with app.sessions() as s:
        c = s.get(Complaint, first["complaint_id"])
        assert c is not None and c.kind == "complaint" and c.mention_id == locker and c.status == "draft_ready"
        mention = s.get(Mention, locker)
        assert mention is not None and mention.lane == "promoted"
        assert c.created_at == mention.fetched_at  # the clock counts from detection
        assert c.first_response_due == mention.fetched_at + app.settings.sla.first_response
        assert s.scalar(select(Draft.text).where(Draft.complaint_id == c.id))
        assert [e.kind for e in s.scalars(select(Event).where(Event.complaint_id == c.id))].count("promoted") == 1
        label = s.scalar(select(Label).where(Label.mention_id == locker))
        assert label is not None and label.complaint and label.origin == "promote"
        assert len(list(s.scalars(select(Complaint)))) == 2
    assert main([*run[:-2], "999999"]) == 1
    with app.sessions() as s:  # the month's review counts what triage missed, and its recall
        review = collect(s, datetime.now(app.zone).strftime("%Y-%m"), app.zone, app.settings.sla.first_response)
    assert review.missed == 1 and review.complaints == 2
    assert review.triage == {"labelled": 1, "precision": None, "recall": 0.0}


def test_a_trained_model_decides_at_the_next_poll(db_url: str, site: SiteServer, make_app: Any) -> None:
    app = make_app(db_url, [], triage={"learn": {"min_labels": 100}})
    now = datetime.now(UTC) - timedelta(days=1)
    with app.sessions.begin() as s:  # the team's earlier decisions on this company's mentions
        for n, (text, label, _group) in enumerate(make(240)):
            m = Mention(source="old", external_id=str(n), text=text, fetched_at=now, language="en", kind="other",
                        flags=[], severity="low", category="other", triage={})  # fmt: skip
            s.add(m)
            s.flush()
            s.add(Label(mention_id=m.id, complaint=label, weight=1.0, origin="approve", actor="tg:1", at=now))
    done = app.learning.train(datetime.now(UTC))
    assert done.decides and done.model_id is not None
    url = site.add(
        "/feed.xml", Page(feed(("9", "Nordlys", "The Nordlys pickup wall by the station stays shut with my code")))
    )
    app.settings.sources.append(app.settings.model_validate(
        {"brand": {"name": "N"}, "sources": [{"name": "blog", "kind": "rss", "url": url}]}).sources[0])  # fmt: skip
    (outcome,) = poll(app)
    assert outcome.complaints == 1
    with app.sessions() as s:
        m = s.scalar(select(Mention).where(Mention.source == "blog"))
        assert m is not None and m.kind == "complaint" and m.triage["decided_by"] == f"learned:{done.model_id}"
        assert m.triage["rules_kind"] == "other" and m.triage["p_complaint"] >= 0.5
        learned = [e for e in m.triage["evidence"] if e.startswith("learned p=")]
        assert len(learned) == 1 and "shut" in learned[0]  # the words that decided it are kept


def test_search_folds_any_alphabet_and_lane_cards_wait_for_the_rest(db_url: str, make_app: Any) -> None:
    app = make_app(db_url, [])
    now = datetime.now(UTC)
    with app.uow() as uow:
        for n, text in enumerate(["Pakken er ØDELAGT", "Заказ ПРИШЁЛ разбитым", "all fine"]):
            row = Mention(source="s", external_id=str(n), text=text, fetched_at=now, language="da", kind="other",
                          flags=[], severity="low", category="other", triage={"unsure": True}, lane="open")  # fmt: skip
            assert uow.session is not None
            uow.session.add(row)
        for n in range(6):
            uow.outbox.add(f"mention:{100 + n}", MentionCard(100 + n), None, now - timedelta(minutes=1))
        uow.outbox.add("alert:1:spike", Alert("spike", count=9), None, now)
    assert [m["text"] for m in app.views.mentions(search="ødelagt")] == ["Pakken er ØDELAGT"]
    assert [m["text"] for m in app.views.mentions(search="пришёл")] == ["Заказ ПРИШЁЛ разбитым"]
    with app.uow() as uow:  # the older mention cards come after the alert, and only a few a round
        claimed = [row.key for row in uow.outbox.claim(now + timedelta(seconds=1), 20)]
    assert claimed == ["alert:1:spike", "mention:100", "mention:101", "mention:102"]


def test_triage_evaluate_reads_headers_and_refuses_a_file_it_cannot_cross_validate(
    tmp_path: Path, db_url: str, site: SiteServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, db_url, site.url("/none.xml"))
    rows = [(t, int(label)) for t, label, _ in make(80)]
    (tmp_path / "t.csv").write_text("tweet_text,complaint\n" + "".join(f'"{t}",{n}\n' for t, n in rows), "utf-8")
    assert main(["--config", str(config), "triage", "evaluate", "--csv", str(tmp_path / "t.csv"), "--folds", "5",
                 "--json"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 80 and set(result) == {"n", "rules", "learned", "curve"}
    assert [set(p) for p in result["curve"]] == [{"labels", "rules", "learned"}]  # 64 training labels: one point
    one = "text,label\n" + "".join(f"text {n},{int(n == 0)}\n" for n in range(30))
    (tmp_path / "one.csv").write_text(one, "utf-8")
    assert main(["--config", str(config), "triage", "evaluate", "--csv", str(tmp_path / "one.csv")]) == 2
    assert "at least 10 texts of each kind" in capsys.readouterr().err


@pytest.mark.parametrize(
    "data",
    [
        {"format": "reclaim-linear-1", "words": {"terms": ["a"], "idf": [1e200], "coef": [1e200]}},
        {"format": "reclaim-linear-1", "intercept": 10**400},
        [[[[["deep"]]]]],
    ],
)
def test_a_hostile_model_row_leaves_the_word_lists_deciding(
    db_url: str, site: SiteServer, make_app: Any, data: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url = site.add("/feed.xml", Page(feed(*ITEMS)))
    app = make_app(db_url, [{"name": "blog", "kind": "rss", "url": url}])
    with app.sessions.begin() as s:
        s.add(TriageModel(trained_at=datetime.now(UTC), labels=100, complaints=50, rules_f1=0.5, learned_f1=0.9,
                          decides=True, seconds=1.0, data=data))  # fmt: skip
    (outcome,) = poll(app)
    assert outcome.ok and outcome.complaints == 1
    with app.sessions() as s:
        assert {m.triage["decided_by"] for m in s.scalars(select(Mention))} == {"rules"}
    assert any("cannot be applied" in r.message for r in caplog.records)
    assert app.learning.status()["deciding"].startswith("word lists (model #")


def test_ids_past_the_journals_integers_are_usage_errors(db_url: str, site: SiteServer, tmp_path: Path) -> None:
    config = _config(tmp_path, db_url, site.url("/none.xml"))
    assert main(["--config", str(config), "mentions", "promote", "2147483648"]) == 2
    assert main(["--config", str(config), "complaints", "show", "2147483648"]) == 2
