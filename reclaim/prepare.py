"""The CPU-heavy half of a poll, parse → brand match → triage, runnable in worker processes.

Workers are started with the Settings once (``init``) and then turn a fetched document
into triaged items; the journal writes stay in the parent, on one thread.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from core.model import RawMention, Triage
from reclaim.app import App
from reclaim.settings import Settings
from watchers import REGISTRY, Fetched, FetchKind, SourceKind
from watchers.base import Deadline, ParseTimeout

_APP: App | None = None


@dataclass
class Prepared:
    items: int = 0
    kept: list[tuple[RawMention, Triage]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def init(settings: Settings, kinds: list[type[SourceKind[Any]]]) -> None:
    """Worker-process initialiser: the parent's source kinds, triage and brand matching, once."""
    global _APP
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    REGISTRY.ensure(kinds)
    from reclaim.redact import REDACT, RedactingFormatter

    REDACT.add_environment()  # what a worker logs is redacted like the parent's lines
    REDACT.add(settings.secret_values())
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s (worker): %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    _APP = App(settings)
    _ = _APP.triager, _APP.brand


def prepare_with(app: App, source_name: str, fetched: Fetched) -> Prepared:
    """Parse and triage one document within the source's ``parse_timeout`` (ParseTimeout past it)."""
    source = app.settings.source(source_name)
    seconds = source.parse_timeout.total_seconds()
    deadline = Deadline.after(seconds)
    with _alarm(seconds):
        kind = REGISTRY.of(source)
        if not isinstance(kind, FetchKind):
            raise TypeError(f"source {source.name}: kind {kind.name} has no documents to parse")
        parsed = kind.parser(source).parse(fetched, deadline)
        out = Prepared(items=len(parsed.items), warnings=parsed.warnings)
        for item in parsed.items:
            deadline.check()
            if source.match == "all" or app.brand.matches(item.title, item.text):
                out.kept.append((item, app.classify(item)))
    return out


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """In a worker process, a timer signal that interrupts the parse even inside one long step
    (the HTML tree being built); on another thread only the deadline's checks apply."""
    in_worker = multiprocessing.parent_process() is not None and threading.current_thread() is threading.main_thread()
    if not in_worker or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(_signum: int, _frame: object) -> None:
        raise ParseTimeout(f"parsing took longer than {seconds:g}s (parse_timeout)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds + 0.5)  # the checks come first where they can
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
