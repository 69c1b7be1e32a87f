"""The CPU-heavy half of a poll, parse → brand match → triage, runnable in worker processes.

Workers are started with the Settings once (``init``) and then turn a fetched document
into triaged items; the journal writes stay in the parent, on one thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.model import RawMention, Triage
from reclaim.app import App, build_watcher
from reclaim.settings import Settings
from watchers import Fetched

_APP: App | None = None


@dataclass
class Prepared:
    items: int = 0
    kept: list[tuple[RawMention, Triage]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def init(settings: Settings) -> None:
    """Worker-process initialiser: build triage and brand matching once."""
    global _APP
    _APP = App(settings)
    _ = _APP.triager, _APP.brand


def prepare_with(app: App, source_name: str, fetched: Fetched) -> Prepared:
    source = app.settings.source(source_name)
    parsed = build_watcher(source).parse(fetched)
    out = Prepared(items=len(parsed.items), warnings=parsed.warnings)
    for item in parsed.items:
        if source.match == "all" or app.brand.matches(item.title, item.text):
            out.kept.append((item, app.classify(item)))
    return out


def prepare_items(app: App, source_name: str, items: list[RawMention]) -> Prepared:
    """Brand match and triage for items a watcher already has as mentions (Reddit, Telegram)."""
    source = app.settings.source(source_name)
    out = Prepared(items=len(items))
    for item in items:
        if source.match == "all" or app.brand.matches(item.title, item.text):
            out.kept.append((item, app.classify(item)))
    return out


def prepare(source_name: str, fetched: Fetched) -> Prepared:
    """Entry point in a worker process (after ``init``)."""
    if _APP is None:
        raise RuntimeError("worker not initialised")
    return prepare_with(_APP, source_name, fetched)
