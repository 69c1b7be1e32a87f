"""What /metrics and /readyz read from the journal at each scrape: a few grouped counts, each on
an index, so a scrape every few seconds costs the journal little."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.lifecycle import Delivery
from storage.tables import Complaint, Outbox, SourceState, Worker


@dataclass
class Snapshot:
    complaints: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, status) → count
    outbox: dict[str, tuple[int, float]] = field(default_factory=dict)  # kind → (pending, oldest age in s)
    first_response: list[float] = field(default_factory=list)  # seconds, the last 7 days, sorted
    workers: dict[str, tuple[bool, int]] = field(default_factory=dict)  # alive worker → (leading, leases)
    due: dict[str, datetime | None] = field(default_factory=dict)  # source → when it is due again


def ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


def due(session: Session) -> dict[str, datetime | None]:
    return dict(session.execute(select(SourceState.name, SourceState.due_at)).all())


def snapshot(session: Session, now: datetime, alive: timedelta) -> Snapshot:
    snap = Snapshot(due=due(session))
    rows = session.execute(
        select(Complaint.kind, Complaint.status, func.count()).group_by(Complaint.kind, Complaint.status)
    )
    snap.complaints = {(k, s): int(n) for k, s, n in rows}
    pending = session.execute(
        select(Outbox.kind, func.count(), func.min(Outbox.created_at))
        .where(Outbox.status == Delivery.PENDING.value)
        .group_by(Outbox.kind)
    )
    snap.outbox = {k: (int(n), (now - oldest).total_seconds() if oldest else 0.0) for k, n, oldest in pending}
    week = session.execute(
        select(Complaint.created_at, Complaint.first_response_at).where(
            Complaint.created_at >= now - timedelta(days=7), Complaint.first_response_at.is_not(None)
        )
    )
    snap.first_response = sorted(max((done - opened).total_seconds(), 0.0) for opened, done in week if done)
    held = (
        select(SourceState.lease_holder, func.count())
        .where(SourceState.lease_holder.is_not(None), SourceState.lease_until >= now)
        .group_by(SourceState.lease_holder)
    )
    leases = dict(session.execute(held).all())
    workers = session.scalars(select(Worker).where(Worker.seen_at >= now - alive))
    snap.workers = {w.name: (w.leading, int(leases.get(w.name, 0))) for w in workers}
    return snap
