"""Ingest: one poll's triaged items into the journal (new mentions, their complaints with a
draft, the managers' alerts) with the source's health, in one transaction; a failed poll
recorded with its backoff (doubling from ``base``, capped). The poller (reclaim/poller.py)
fetches and parses; this only writes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.durations import backoff
from core.ingest import Draft, plan_ingest
from core.learned import LearnedTriage, document
from core.model import RawMention, Triage
from storage.journal import Recorded
from storage.tables import SourceState
from storage.uow import UnitOfWork


@dataclass
class Health:
    """What one successful poll says of its source."""

    status: int
    items: int = 0
    warnings: list[str] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    cursor: dict[str, object] | None = None


def record_poll(
    uow: UnitOfWork,
    source: str,
    publisher: str,
    kept: Sequence[tuple[RawMention, Triage]],
    health: Health,
    *,
    draft: Draft,
    first_response: timedelta,
    now: datetime,
    learned: Callable[[UnitOfWork], LearnedTriage | None] | None = None,
    show: frozenset[str] = frozenset(),
) -> Recorded:
    """The items a poll kept (brand matched and triaged by the word lists) and the source's
    health; where a learned model decides (``learned``), it takes the complaint-or-not decision.
    Mentions of the kinds in ``show`` (inbox.show) get a card in the mentions lane."""
    triages = {raw.external_id: t for raw, t in kept}
    model = learned(uow) if learned is not None else None

    def classify(raw: RawMention) -> Triage:
        rules = triages[raw.external_id]
        return rules if model is None else model.decide(rules, document(raw.text, raw.title), raw.rating)

    plan = plan_ingest(
        source,
        [raw for raw, _t in kept],
        known=uow.sources.known(source, triages),
        classify=classify,
        draft=draft,
        now=now,
        first_response=first_response,
        show=show,
    )
    plan.publisher = publisher
    recorded = uow.complaints.record(plan) if plan.mentions else Recorded(0, 0)
    _succeeded(uow.sources.state(source), health, recorded.mentions_added, now)
    return recorded


def _healthy(status: int, now: datetime) -> dict[str, Any]:
    """What any successful poll sets on its source's row."""
    return {"last_polled_at": now, "last_success_at": now, "last_status": status, "last_warning": None,
            "consecutive_failures": 0, "next_attempt_at": None}  # fmt: skip


def record_unchanged(uow: UnitOfWork, sources: Sequence[str], now: datetime) -> None:
    """Polls answered 304 Not Modified (nothing new, validators still good), in one write."""
    if sources:
        uow.sources.mark(sources, _healthy(304, now))


def _succeeded(state: SourceState, health: Health, added: int, now: datetime) -> None:
    if health.cursor is not None:
        state.cursor = health.cursor
    for key, value in _healthy(health.status, now).items():
        setattr(state, key, value)
    if health.status != 304:
        state.etag, state.last_modified = health.etag, health.last_modified
    if health.warnings:
        state.last_warning = "; ".join(health.warnings)[:4000]
    state.items_seen = (state.items_seen or 0) + health.items
    state.mentions_added = (state.mentions_added or 0) + added


def record_failure(
    uow: UnitOfWork, source: str, error: str, status: int | None, *, base: timedelta, cap: timedelta, now: datetime
) -> timedelta:
    """A failed poll; returns the backoff before the next attempt (doubling, capped)."""
    state = uow.sources.state(source)
    state.last_polled_at = state.last_error_at = now
    state.last_status = status
    state.last_error = error[:4000]
    state.consecutive_failures = (state.consecutive_failures or 0) + 1
    delay = timedelta(seconds=backoff(state.consecutive_failures, base.total_seconds(), cap.total_seconds()))
    state.next_attempt_at = now + delay
    return delay
