"""Several workers on one journal (SQLite and PostgreSQL): a source is claimed by one worker at
a time, only when it is due, and a dead worker's lease runs out; heartbeats and leaving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from storage.workers import SqlWorkers, WorkerBeat

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
EVERY, EARLY, TTL = timedelta(seconds=60), timedelta(seconds=2), timedelta(minutes=2)


def _claim(app: Any, holder: str, at: datetime, source: str = "feed") -> bool:
    with app.uow() as uow:
        return bool(uow.workers.claim(source, holder, at, every=EVERY, early=EARLY, ttl=TTL))


def _release(app: Any, holder: str, due: datetime | None = None, source: str = "feed") -> None:
    with app.uow() as uow:
        uow.workers.release(source, holder, due)


def test_a_source_is_polled_by_one_worker_at_a_time_and_only_when_due(db_url: str, make_app: Any) -> None:
    app = make_app(db_url, [])
    assert _claim(app, "a", NOW)  # never polled: due at once
    assert not _claim(app, "b", NOW + timedelta(seconds=1))  # held by a
    _release(app, "a")
    assert not _claim(app, "b", NOW + timedelta(seconds=30))  # not due for another 30 s
    assert not _claim(app, "b", NOW + EVERY - EARLY - timedelta(seconds=1))
    assert _claim(app, "a", NOW + EVERY - EARLY)  # its own tick, a little early (jitter)
    _release(app, "a", due=NOW + EVERY + timedelta(seconds=5))  # a failure retried sooner than the interval
    assert _claim(app, "b", NOW + EVERY + timedelta(seconds=5))  # any worker takes it then


def test_a_dead_workers_lease_runs_out(db_url: str, make_app: Any) -> None:
    app = make_app(db_url, [])
    assert _claim(app, "dead", NOW)  # and never released: SIGKILL mid-poll
    assert not _claim(app, "b", NOW + EVERY)  # due, but still held
    assert _claim(app, "b", NOW + TTL + timedelta(seconds=1))
    _release(app, "dead")  # a late release by a worker that lost its lease changes nothing
    assert not _claim(app, "c", NOW + TTL + timedelta(seconds=2))


def test_heartbeats_leases_and_leaving(db_url: str, make_app: Any) -> None:
    app = make_app(db_url, [])
    with app.uow() as uow:
        assert uow.workers.beat(WorkerBeat("w1", "host", 1, NOW, NOW, True, 901)) == []
        leaders = uow.workers.beat(WorkerBeat("w2", "host", 2, NOW, NOW, False, 902))
        assert [(w.name, w.lock_pid) for w in leaders] == [("w1", 901)]  # who to cut off if it goes silent
        uow.workers.beat(WorkerBeat("w1", "host", 1, NOW, NOW + timedelta(seconds=2), True, 901))  # the next beat
    assert _claim(app, "w2", NOW, "feed-1") and _claim(app, "w2", NOW, "feed-2")
    with app.uow() as uow:
        assert isinstance(uow.workers, SqlWorkers)
        seen = {w.name: (w.leading, w.leases, w.seen_at) for w in uow.workers.seen(NOW)}
    assert seen == {"w1": (True, 0, NOW + timedelta(seconds=2)), "w2": (False, 2, NOW)}
    with app.uow() as uow:
        uow.workers.beat(WorkerBeat("w2", "host", 2, NOW, NOW + timedelta(seconds=3), True, 902))  # w2 leads now
    with app.uow() as uow:
        assert isinstance(uow.workers, SqlWorkers)
        assert {w.name: w.leading for w in uow.workers.seen(NOW)} == {"w1": False, "w2": True}
        uow.workers.leave("w2")  # a clean stop gives its sources back at once
    with app.uow() as uow:
        assert isinstance(uow.workers, SqlWorkers)
        assert [w.name for w in uow.workers.seen(NOW)] == ["w1"]
    assert _claim(app, "w1", NOW + timedelta(seconds=1), "feed-1") is False  # not due yet, but no longer held
    assert _claim(app, "w1", NOW + EVERY, "feed-2")
