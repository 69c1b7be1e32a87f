"""The monthly review as HTML with charts (matplotlib, embedded as PNG), CSV or JSON.

HTML is one self-contained file: it can be mailed, opened offline, or sent as a document to
the managers' chat. Every chart has its numbers in a table beside it.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: draw to PNG
import matplotlib.pyplot as plt
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.texts import StaffTexts
from core.review import human, share
from storage.review import Review

TEMPLATES = Path(__file__).parent / "templates"
COLOURS = {"complaint": "#c0392b", "praise": "#27ae60", "question": "#2980b9", "other": "#95a5a6"}


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def charts(r: Review, t: Callable[[str], str]) -> dict[str, str]:
    """The review's charts as PNG data URLs, titled in the staff's language."""
    label = {"complaint": t("complaints"), "praise": t("praise"), "question": t("questions"), "other": t("other")}
    out: dict[str, str] = {}
    weeks = list(r.by_week)
    if weeks:
        fig, ax = plt.subplots(figsize=(7, 3))
        width = 0.4
        xs = range(len(weeks))
        for offset, kind in ((-width / 2, "complaint"), (width / 2, "praise")):
            ax.bar([x + offset for x in xs], [r.by_week[w].get(kind, 0) for w in weeks], width,
                   label=label[kind], color=COLOURS[kind])  # fmt: skip
        ax.set_xticks(list(xs), weeks, fontsize=8)
        ax.set_title(t("chart_weeks"))
        ax.legend(frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        out["weeks"] = _png(fig)
    if r.by_source:
        names = list(r.by_source)[::-1]
        fig, ax = plt.subplots(figsize=(7, 0.5 + 0.4 * len(names)))
        left = [0] * len(names)
        for kind in ("complaint", "praise", "question", "other"):
            values = [r.by_source[n].get(kind, 0) for n in names]
            ax.barh(names, values, left=left, color=COLOURS[kind], label=label[kind])
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_title(t("chart_sources"))
        ax.legend(frameon=False, fontsize=8, ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.12))
        ax.spines[["top", "right"]].set_visible(False)
        out["sources"] = _png(fig)
    if r.first_response.count:
        fig, ax = plt.subplots(figsize=(7, 2.6))
        labels = ["≤ 1 h", "1–24 h", "> 24 h", "never"]
        answered = r.first_response.count
        values = [r.answered_1h, r.answered_24h - r.answered_1h, answered - r.answered_24h, r.unanswered]
        ax.bar(labels, values, color=["#27ae60", "#f1c40f", "#e67e22", "#c0392b"])
        ax.set_title(f"{t('chart_response')} (SLA {human(r.sla_seconds)})")
        ax.spines[["top", "right"]].set_visible(False)
        out["response"] = _png(fig)
    if sum(r.ratings.values()):
        fig, ax = plt.subplots(figsize=(4.5, 2.6))
        ax.bar([str(k) for k in r.ratings], list(r.ratings.values()),
               color=["#c0392b", "#e67e22", "#f1c40f", "#9acd32", "#27ae60"])  # fmt: skip
        ax.set_title(f"{t('chart_ratings')} (1–5)")
        ax.spines[["top", "right"]].set_visible(False)
        out["ratings"] = _png(fig)
    if r.causes:
        top = r.causes[:8][::-1]
        fig, ax = plt.subplots(figsize=(6, 0.5 + 0.4 * len(top)))
        ax.barh([c["cause"] for c in top], [c["complaints"] for c in top], color="#8e44ad")
        ax.set_title(t("chart_causes"))
        ax.spines[["top", "right"]].set_visible(False)
        out["causes"] = _png(fig)
    return out


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["human"] = human
    env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.0f}%"
    return env


def render_html(r: Review, brand: str, texts: StaffTexts, charts_on: bool = True) -> str:
    """The review as one self-contained page in the staff's language (telegram.staff_language)."""

    def t(key: str, **values: object) -> str:
        return texts.t("report", key, **values)

    context = {
        "r": r,
        "brand": brand,
        "t": t,
        "lang": texts.language,
        "charts": charts(r, t) if charts_on else {},
        "share": share,
        "now": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    return _environment().get_template("report.html").render(**context)


def rows(r: Review) -> list[tuple[str, str, Any]]:
    """The review as (section, key, value) rows, for CSV and spreadsheets."""
    out: list[tuple[str, str, Any]] = [("month", "month", r.month), ("month", "mentions", r.mentions)]
    out += [("kinds", k, v) for k, v in r.kinds.items()]
    out += [("source", f"{s}:{k}", v) for s, kinds in r.by_source.items() for k, v in kinds.items()]
    out += [("language", f"{lang}:{k}", v) for lang, kinds in r.by_language.items() for k, v in kinds.items()]
    out += [("week", f"{w}:{k}", v) for w, kinds in r.by_week.items() for k, v in kinds.items()]
    out += [("category", k, v) for k, v in r.by_category.items()]
    out += [("complaints", "opened", r.complaints)] + [("status", k, v) for k, v in r.statuses.items()]
    for name in ("detection", "first_response", "resolution"):
        t = getattr(r, name)
        out += [(name, "count", t.count), (name, "median_seconds", t.median), (name, "p90_seconds", t.p90)]
    out += [("first_response", "within_sla", r.first_response.within_sla)]
    out += [("first_response", "within_1h", r.answered_1h), ("first_response", "within_24h", r.answered_24h)]
    out += [("first_response", "unanswered", r.unanswered)]
    out += [("first_response", f"{who}:{k}", v) for who, figures in r.responders.items() for k, v in figures.items()]
    out += [("promises", k, v) for k, v in r.promises.items()]
    out += [("ratings", str(k), v) for k, v in r.ratings.items()] + [("ratings", "mean", r.satisfaction)]
    out += [("escalations", k, v) for k, v in r.escalations.items()]
    out += [("causes", c["cause"], c["complaints"]) for c in r.causes]
    out += [("actions", k, v) for k, v in r.actions.items()]
    out += [
        ("triage", "missed", r.missed),
        ("triage", "missed_found_after_median_seconds", r.missed_found_after.median),
    ]
    out += [("triage", k, v) for k, v in r.triage.items()]
    return out


def render(r: Review, fmt: str, brand: str, texts: StaffTexts) -> bytes:
    if fmt == "json":
        return json.dumps(r.as_json(), ensure_ascii=False, indent=2, default=str).encode("utf-8")
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["section", "key", "value"])
        writer.writerows(rows(r))
        return buf.getvalue().encode("utf-8")
    if fmt == "html":
        return render_html(r, brand, texts).encode("utf-8")
    raise ValueError(f"unknown report format {fmt!r} (html, csv or json)")
