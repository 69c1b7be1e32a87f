"""Outbox rows that could not be sent: given up after a bounded number of attempts (or at once
for a definite refusal), shown on the complaint's card, listed, retried or dropped by staff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core.lifecycle import NEEDS_PERSON, Delivery
from core.outbox import OutboxKind, Payload
from storage.journal import _insert, outbox_row
from storage.tables import Outbox

FAILED = Delivery.FAILED.value
STATUSES = tuple(d.value for d in Delivery)


def add_outbox(
    session: Session,
    *,
    key: str,
    payload: Payload,
    complaint_id: int | None,
    now: datetime,
    status: str = Delivery.PENDING.value,
) -> bool:
    """Queue one outgoing message; False when a row with this key exists (it is sent once)."""
    stmt = (
        _insert(session, Outbox)
        .values(**outbox_row(key, payload, complaint_id, now, status))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Outbox.id)
    )
    return session.connection().execute(stmt).first() is not None


def for_card(session: Session, complaint_id: int) -> tuple[Outbox | None, tuple[str, ...]]:
    """In one query: the complaint's public reply row, and what its card says about messages that
    could not be sent (given up, or an edit or withdrawal of our reply the place refused)."""
    key = f"publish:{complaint_id}"
    refused_change = and_(Outbox.status == Delivery.REFUSED.value, Outbox.kind == OutboxKind.AMEND.value)
    rows = session.scalars(
        select(Outbox)
        .where(Outbox.complaint_id == complaint_id, or_(Outbox.key == key, Outbox.status == FAILED, refused_change))
        .order_by(Outbox.id)
    ).all()
    failed = tuple(
        f"#{r.id} {r.kind}: {r.last_error or 'failed'}"
        for r in rows
        if r.status == FAILED or (r.status == Delivery.REFUSED.value and r.kind == OutboxKind.AMEND.value)
    )
    return next((r for r in rows if r.key == key), None), failed


def listing(session: Session, statuses: Sequence[str] | None = NEEDS_PERSON, limit: int = 200) -> list[dict[str, Any]]:
    """The newest rows first, of these statuses (None: every row)."""
    query = select(Outbox).order_by(Outbox.id.desc()).limit(limit)
    if statuses:
        query = query.where(Outbox.status.in_(statuses))
    return [
        {
            "id": r.id,
            "key": r.key,
            "kind": r.kind,
            "complaint_id": r.complaint_id,
            "status": r.status,
            "attempts": r.attempts,
            "last_error": r.last_error,
            "updated_at": r.updated_at.isoformat(),
        }
        for r in session.scalars(query)
    ]
