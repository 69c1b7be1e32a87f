"""The state of `reclaim run`'s long-running parts (the Telegram bot), for `reclaim status`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.tables import ServiceStatus


def set_status(
    session: Session, component: str, state: str, now: datetime, detail: str | None = None,
    next_attempt_at: datetime | None = None,
) -> None:  # fmt: skip
    row = session.get(ServiceStatus, component)
    if row is None:
        row = ServiceStatus(component=component, state=state, since=now, updated_at=now)
        session.add(row)
    elif row.state != state:
        row.since = now
    row.state, row.detail, row.updated_at, row.next_attempt_at = state, detail, now, next_attempt_at


def statuses(session: Session) -> list[dict[str, Any]]:
    def iso(d: datetime | None) -> str | None:
        return d.isoformat() if d else None

    return [
        {
            "component": r.component,
            "state": r.state,
            "detail": r.detail,
            "since": iso(r.since),
            "updated_at": iso(r.updated_at),
            "next_attempt_at": iso(r.next_attempt_at),
        }
        for r in session.scalars(select(ServiceStatus).order_by(ServiceStatus.component))
    ]
