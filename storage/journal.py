"""The journal's writes: a poll's plan and the source's new state, in one transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.ingest import IngestPlan, MentionPlan, opened_events
from core.lifecycle import Delivery
from core.model import DraftStatus
from core.outbox import Alert, MentionCard, Payload, to_json
from storage.tables import CardQueue, Complaint, Draft, Event, Mention, Outbox, SourceState

CHUNK = 400
NEW_SOURCE = {"consecutive_failures": 0, "items_seen": 0, "mentions_added": 0}  # a source's row when it is made
ALERT_FLAGS = frozenset({"legal_threat", "manager_request"})  # managers hear of these at once


@dataclass(frozen=True, slots=True)
class Recorded:
    mentions_added: int
    complaints_opened: int
    complaint_ids: tuple[int, ...] = ()
    kinds: tuple[tuple[str, int], ...] = ()  # the new mentions by triage kind, for /metrics


def _insert(session: Session, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike)."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


def _core(session: Session, stmt: Any, rows: list[dict[str, Any]]) -> Any:
    """Many rows through SQLAlchemy Core on the session's connection: the same INSERT without the
    ORM's per-row bookkeeping (these rows are never loaded as objects in this transaction)."""
    return session.connection().execute(stmt, rows)


def outbox_row(key: str, payload: Payload, complaint_id: int | None, now: datetime,
               status: str = Delivery.PENDING.value) -> dict[str, Any]:  # fmt: skip
    """An outbox row as inserted: queued now, sent by the dispatcher (storage/outbox.py, cases.py)."""
    return {"key": key, "kind": payload.kind.value, "complaint_id": complaint_id, "payload": to_json(payload),
            "status": status, "attempts": 0, "next_attempt_at": now, "created_at": now, "updated_at": now}  # fmt: skip


def queue_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert outbox rows; a key already queued is left as it is (each message goes once)."""
    if rows:
        _core(session, _insert(session, Outbox.__table__).on_conflict_do_nothing(index_elements=["key"]), rows)


def _chunks(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


def known_ids(session: Session, source: str, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` the journal already holds for ``source``."""
    wanted = list(dict.fromkeys(ids))
    found: set[str] = set()
    for i in range(0, len(wanted), CHUNK):
        part = wanted[i : i + CHUNK]
        rows = session.execute(
            select(Mention.external_id).where(Mention.source == source, Mention.external_id.in_(part))
        )
        found.update(r[0] for r in rows)
    return found


def record_plan(session: Session, plan: IngestPlan) -> Recorded:
    """Insert the plan's mentions (skipping any another writer added meanwhile), then open
    their complaints with a draft, the first events, a card and the managers' alerts."""
    ids = _insert_mentions(session, plan)
    _lane_cards(session, plan, ids)
    opened = [m for m in plan.mentions if m.complaint is not None and m.raw.external_id in ids]
    kinds = tuple(Counter(m.triage.kind.value for m in plan.mentions if m.raw.external_id in ids).items())
    if not opened:
        return Recorded(len(ids), 0, kinds=kinds)
    by_token = _insert_complaints(session, plan, opened, ids)
    _first_rows(session, plan.fetched_at, opened, by_token)
    return Recorded(len(ids), len(by_token), tuple(by_token.values()), kinds)


def _insert_mentions(session: Session, plan: IngestPlan) -> dict[str, int]:
    """The new mentions' ids by external id (those the journal had are left out)."""
    rows = [
        {
            "source": plan.source,
            "external_id": m.raw.external_id,
            "url": m.raw.url,
            "author": m.raw.author[:512] if m.raw.author else None,
            "title": m.raw.title,
            "text": m.raw.text,
            "published_at": m.raw.published_at,
            "fetched_at": plan.fetched_at,
            "rating": m.raw.rating,
            "language": m.triage.language,
            "kind": m.triage.kind.value,
            "flags": [f.value for f in m.triage.flags],
            "severity": m.triage.severity.value,
            "category": m.triage.category,
            "triage": m.triage.record(),
            "origin": dict(m.raw.origin) if m.raw.origin else None,
            "lane": "open" if m.lane else None,
        }
        for m in plan.mentions
    ]
    ids: dict[str, int] = {}
    table = Mention.__table__
    stmt = (
        _insert(session, table)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(table.c.id, table.c.external_id)
    )
    for part in _chunks(rows):
        ids.update({ext: mid for mid, ext in _core(session, stmt, part)})
    return ids


def _lane_cards(session: Session, plan: IngestPlan, ids: dict[str, int]) -> None:
    """A card in the staff chat for each new mention of the mentions lane."""
    rows = [
        outbox_row(f"mention:{mid}", MentionCard(mid), None, plan.fetched_at)
        for m in plan.mentions
        if m.lane and (mid := ids.get(m.raw.external_id)) is not None
    ]
    queue_rows(session, rows)


def _insert_complaints(
    session: Session, plan: IngestPlan, opened: list[MentionPlan], ids: dict[str, int]
) -> dict[str, int]:
    """The complaints' ids by token."""
    rows = [
        {
            "mention_id": ids[m.raw.external_id],
            "status": m.complaint.status.value,
            "language": m.triage.language,
            "severity": m.triage.severity.value,
            "category": m.triage.category,
            "flags": [f.value for f in m.triage.flags],
            "token": m.complaint.token,
            "created_at": plan.fetched_at,
            "updated_at": plan.fetched_at,
            "first_response_due": m.complaint.first_response_due,
            "publisher": plan.publisher,
            "source": plan.source,
        }
        for m in opened
        if m.complaint is not None
    ]
    by_token: dict[str, int] = {}
    table = Complaint.__table__
    returning = _insert(session, table).returning(table.c.id, table.c.token)
    for part in _chunks(rows):
        by_token.update({token: cid for cid, token in _core(session, returning, part)})
    return by_token


def _first_rows(session: Session, now: datetime, opened: list[MentionPlan], by_token: dict[str, int]) -> None:
    """Each new complaint's draft, first events and card, and the alerts its flags raise."""
    drafts, events, alerts = [], [], []
    for m in opened:
        assert m.complaint is not None
        cid = by_token[m.complaint.token]
        drafts.append({"complaint_id": cid, "text": m.complaint.draft_text, "status": DraftStatus.PROPOSED.value,
                       "author": "reclaim", "created_at": now})  # fmt: skip
        events += [
            {"complaint_id": cid, "at": now, "kind": kind, "actor": "reclaim", "data": data}
            for kind, data in opened_events(m)
        ]
        alerts += [
            outbox_row(f"alert:{cid}:{flag.value}", Alert(flag.value), cid, now)
            for flag in m.triage.flags
            if flag.value in ALERT_FLAGS
        ]
    _core(session, _insert(session, Draft.__table__), drafts)
    _core(session, _insert(session, Event.__table__), events)
    cards = [{"complaint_id": cid, "version": 1, "drawn": 0} for cid in by_token.values()]
    _core(session, _insert(session, CardQueue.__table__), cards)
    queue_rows(session, alerts)


def source_state(session: Session, name: str) -> SourceState:
    """A source's row, made if missing, and locked for this transaction: two writers (two group
    messages at once) neither collide on making it nor lose each other's counts."""
    new = {**NEW_SOURCE, "name": name}
    session.execute(_insert(session, SourceState).values(**new).on_conflict_do_nothing(index_elements=["name"]))
    state = session.get(SourceState, name, with_for_update=True, populate_existing=True)
    assert state is not None
    return state
