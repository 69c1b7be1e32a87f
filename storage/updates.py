"""Telegram updates already acted on: a redelivered update (a double tap, a restart of long
polling) changes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.journal import _insert
from storage.tables import SeenUpdate


def first_time(session: Session, update_id: int | None, now: datetime) -> bool:
    """Record a Telegram update id; False when it was acted on before (a redelivery)."""
    if update_id is None:
        return True
    stmt = (
        _insert(session, SeenUpdate)
        .values(update_id=update_id, at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(SeenUpdate.update_id)
    )
    return session.connection().execute(stmt).first() is not None
