"""The monthly review on a generated month (sandbox/month.py): every number the report shows is
checked against what the generator wrote, not against the report's own arithmetic; the HTML
carries its charts as real PNG images and the numbers beside them; CSV and JSON agree."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.texts import load_texts
from core.review import percentile
from reclaim.cli import main
from reclaim.report import render
from sandbox.month import Truth, generate
from storage.review import Review, collect

MONTH, ZONE, SLA = "2026-10", ZoneInfo("Europe/Copenhagen"), timedelta(hours=1)
NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)


@pytest.fixture
def month(db_url: str, make_app: Any) -> tuple[Any, Truth, Review]:
    app = make_app(db_url, [], timezone="Europe/Copenhagen")
    truth = generate(app.sessions, MONTH, complaints=300, seed=5, now=NOW)
    generate(app.sessions, "2026-11", complaints=20, seed=6, now=NOW, actions=False)  # must not leak in
    with app.sessions() as session:
        review = collect(session, MONTH, ZONE, SLA, now=NOW)
    return app, truth, review


def test_the_numbers_are_the_months_data(month: tuple[Any, Truth, Review]) -> None:
    _app, truth, r = month
    assert r.kinds == {k: truth.kinds.get(k, 0) for k in ("complaint", "praise", "question", "other")}
    assert r.complaints == truth.complaints == 300 and r.praise == 750
    assert {s: sum(k.values()) for s, k in r.by_source.items()} == {
        s: sum(k.values()) for s, k in truth.by_source.items()
    }
    assert sum(k.get("complaint", 0) for k in r.by_week.values()) == 300
    assert r.first_response.count == len(truth.first_response)
    assert r.first_response.median == pytest.approx(percentile(truth.first_response, 50), abs=1e-3)
    assert r.first_response.p90 == pytest.approx(percentile(truth.first_response, 90), abs=1e-3)
    assert r.detection.median == pytest.approx(percentile(truth.detection, 50), abs=1e-3)
    assert r.resolution.p90 == pytest.approx(percentile(truth.resolution, 90), abs=1e-3)
    assert r.answered_1h == sum(1 for s in truth.first_response if s <= 3600)
    assert r.first_response.within_sla == r.answered_1h
    assert r.answered_24h == sum(1 for s in truth.first_response if s <= 86400)
    assert r.unanswered == truth.unanswered > 0
    policy, staff = r.responders["policy"], r.responders["staff"]
    assert policy["count"] == len(truth.by_policy) > 0 and staff["count"] == len(truth.first_response) - policy["count"]
    assert policy["median"] == pytest.approx(percentile(truth.by_policy, 50), abs=1e-3)
    assert policy["within_1h"] + staff["within_1h"] == r.answered_1h and policy["within_24h"] == len(truth.by_policy)
    assert r.promises == {"made": truth.promises["made"], "kept": truth.promises["kept"],
                          "missed": truth.promises["missed"], "open": 0}  # fmt: skip
    assert r.ratings == {n: truth.ratings.get(n, 0) for n in range(1, 6)}
    assert r.escalations == dict(truth.escalations)
    assert {c["cause"]: (c["complaints"], c["justified"]) for c in r.causes} == {
        cause: (n, truth.justified[cause]) for cause, n in truth.causes.items()
    }
    assert {c["id"] for c in r.reopened} == truth.reopened
    assert r.actions == {k: truth.actions.get(k, 0) for k in ("opened", "done", "overdue")}
    assert r.actions["overdue"] >= 1 and r.actions["done"] >= 1
    slow = [c["first_response_seconds"] for c in r.slowest]
    assert slow[: truth.unanswered] == [None] * min(truth.unanswered, len(slow))  # never answered come first


def test_html_has_its_charts_and_the_numbers_beside_them(month: tuple[Any, Truth, Review]) -> None:
    _app, truth, r = month
    html = render(r, "html", "Nordlys", load_texts("en")).decode("utf-8")
    assert f"<b>{truth.kinds['complaint']}</b> complaints against <b>{truth.kinds['praise']}</b> compliments" in html
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', html)
    assert {alt for _, alt in images} == {
        "Complaints and praise by week",
        "Mentions by source",
        "Time to the first answer",
        "Satisfaction",
        "Root causes",
    }
    for data, _alt in images:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")
    assert "Billing page shows VAT clearly" in html and "overdue" in html
    policy = r.responders["policy"]
    assert re.search(rf"by policy \(no staff action in time\)</td><td>{policy['count']}</td>", html)
    assert f"expect an answer within the hour; this month {r.answered_1h / r.complaints * 100:.0f}%" in html


@pytest.mark.parametrize(
    ("language", "said", "english"),
    [
        ("da", "Klager og ros pr. uge", "Causes and corrective actions"),
        ("ru", "Жалобы и похвала по неделям", "Cases to look at"),
    ],
)
def test_the_review_speaks_the_staff_language(
    month: tuple[Any, Truth, Review], language: str, said: str, english: str
) -> None:
    _app, _truth, r = month
    html = render(r, "html", "Nordlys", load_texts(language)).decode("utf-8")
    assert f'<html lang="{language}">' in html and said in html and english not in html
    headings = re.findall(r"<h2>([^<]+)</h2>", html)
    assert len(headings) == 7 and not set(headings) & {"Volumes", "Speed", "Escalations"}


def test_csv_and_json_say_the_same(month: tuple[Any, Truth, Review]) -> None:
    _app, truth, r = month
    rows = list(csv.reader(io.StringIO(render(r, "csv", "Nordlys", load_texts("en")).decode("utf-8"))))
    table = {(section, key): value for section, key, value in rows[1:]}
    assert table[("kinds", "praise")] == str(truth.kinds["praise"])
    assert table[("promises", "missed")] == str(truth.promises["missed"])
    data = json.loads(render(r, "json", "Nordlys", load_texts("en")))
    assert data["complaints"] == 300 and data["ratings"]["5"] == truth.ratings[5]
    assert data["first_response"]["within_sla"] == r.answered_1h


def test_the_report_command_writes_a_month(
    month: tuple[Any, Truth, Review], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"brand: {{name: Nordlys}}\ndatabase: {{url: '{db_url}'}}\ntimezone: Europe/Copenhagen\n", encoding="utf-8"
    )
    out = tmp_path / "review.html"
    assert main(["--config", str(config), "report", "--month", MONTH, "--out", str(out)]) == 0
    assert "complaints against" in out.read_text(encoding="utf-8")
    assert main(["--config", str(config), "report", "--month", "October"]) == 2
