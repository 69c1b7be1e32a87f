"""Several `reclaim run` workers on one journal: source leases and heartbeats.

A source is polled by one worker at a time: a worker claims due sources (one UPDATE over the
rows a ``SELECT … FOR UPDATE SKIP LOCKED`` picked, re-checked under its row locks, so two
workers never hold the same source), polls them, and gives each back with the time it is due
again. A worker that dies mid-poll holds its sources until ``lease_until``; after that any
worker takes them (reclaim/rounds.py runs the loop).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from storage import uow
from storage.journal import _insert
from storage.tables import ServiceStatus, SourceState, Worker


@dataclass(frozen=True)
class WorkerSeen:
    name: str
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime
    leading: bool
    leases: int
    lock_pid: int | None = None


@dataclass(frozen=True)
class WorkerBeat:
    name: str
    host: str
    pid: int
    started: datetime
    now: datetime
    leading: bool
    lock_pid: int | None


class SqlWorkers(uow.Workers):
    def __init__(self, session: Session) -> None:
        self.session = session

    def clock(self, now: datetime) -> datetime:
        if self.session.get_bind().dialect.name != "postgresql":
            return now
        return self.session.execute(select(func.now())).scalar_one()

    def enlist(self, first: dict[str, datetime]) -> None:
        """Rows for these sources, due at ``first`` when new (or parked, or from before leases)."""
        if not first:
            return
        new = [{"name": n, "consecutive_failures": 0, "items_seen": 0, "mentions_added": 0, "due_at": d}
               for n, d in first.items()]  # fmt: skip
        self.session.execute(_insert(self.session, SourceState).on_conflict_do_nothing(), new)
        unset = list(self.session.scalars(select(SourceState.name).where(SourceState.due_at.is_(None))))
        rows = [{"n": n, "d": first[n]} for n in unset if n in first]
        if rows:
            stmt = update(SourceState).where(SourceState.name == bindparam("n"), SourceState.due_at.is_(None))
            self.session.connection().execute(stmt.values(due_at=bindparam("d")), rows)

    def claim_due(self, holder: str, now: datetime, limit: int, ttl: timedelta, leader_only: list[str]) -> list[str]:
        """Up to ``limit`` due sources nobody holds, the longest due first, now held by ``holder``
        until ``now + ttl``. Rows another worker is claiming at the same moment are skipped."""
        free = or_(SourceState.lease_until.is_(None), SourceState.lease_until < now)
        due = select(SourceState.name).where(SourceState.due_at <= now, free)
        if leader_only:
            due = due.where(SourceState.name.not_in(leader_only))
        due = due.order_by(SourceState.due_at).limit(limit).with_for_update(skip_locked=True)
        stmt = (
            update(SourceState)
            .where(SourceState.name.in_(due.scalar_subquery()), free)
            .values(lease_holder=holder, lease_until=now + ttl)
            .returning(SourceState.name)
            .execution_options(synchronize_session=False)
        )
        return list(self.session.scalars(stmt))

    def release(self, source: str, holder: str, due: datetime | None) -> None:
        """Give a source back, due again at ``due`` (None: parked, a source no longer polled)."""
        stmt = (
            update(SourceState)
            .where(SourceState.name == source, SourceState.lease_holder == holder)
            .values(lease_holder=None, lease_until=None, due_at=due)
            .execution_options(synchronize_session=False)
        )
        self.session.execute(stmt)

    def beat(self, me: WorkerBeat, silent_after: timedelta) -> list[WorkerSeen]:
        """Record this worker's heartbeat. A follower gets the rows that say they lead (to cut
        off one gone silent). The leader clears the other rows' leading flag and gets the workers
        silent for ``silent_after``, whose rows it removes (each is reported once)."""
        values = {
            "host": me.host, "pid": me.pid, "started_at": me.started, "seen_at": me.now, "leading": me.leading,
            "lock_pid": me.lock_pid,
        }  # fmt: skip
        stmt = _insert(self.session, Worker).values(name=me.name, **values)
        self.session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=values))
        others = Worker.name != me.name
        if not me.leading:
            rows = self.session.scalars(select(Worker).where(others, Worker.leading))
            return [_seen(w) for w in rows]
        self.session.execute(update(Worker).where(others, Worker.leading).values(leading=False))
        gone = list(self.session.scalars(select(Worker).where(others, Worker.seen_at < me.now - silent_after)))
        for w in gone:
            self.session.delete(w)
        return [_seen(w) for w in gone]

    def leave(self, name: str) -> None:
        self.session.query(Worker).filter(Worker.name == name).delete(synchronize_session=False)
        self.session.execute(
            update(SourceState).where(SourceState.lease_holder == name).values(lease_holder=None, lease_until=None)
        )

    def seen(self, since: datetime) -> list[WorkerSeen]:
        leases = (
            select(SourceState.lease_holder, func.count().label("n"))
            .where(SourceState.lease_holder.is_not(None))
            .group_by(SourceState.lease_holder)
            .subquery()
        )
        rows = self.session.execute(
            select(Worker, func.coalesce(leases.c.n, 0))
            .outerjoin(leases, leases.c.lease_holder == Worker.name)
            .where(Worker.seen_at >= since)
            .order_by(Worker.started_at)
        ).all()
        return [
            WorkerSeen(w.name, w.host, w.pid, w.started_at, w.seen_at, w.leading, int(n), w.lock_pid) for w, n in rows
        ]

    def leads(self, name: str) -> bool:
        """Whether the journal still names this worker the leader (a stale leader's fence)."""
        return bool(self.session.scalar(select(Worker.leading).where(Worker.name == name)))

    def polled(self) -> dict[str, datetime | None]:
        return dict(self.session.execute(select(SourceState.name, SourceState.last_polled_at)).all())

    def stalled_since(self) -> datetime | None:
        row = self.session.get(ServiceStatus, "polling")
        return row.since if row is not None and row.state == "stalled" else None


def _seen(w: Worker) -> WorkerSeen:
    return WorkerSeen(w.name, w.host, w.pid, w.started_at, w.seen_at, w.leading, 0, w.lock_pid)
