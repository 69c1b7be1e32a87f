"""Several workers on one journal (SQLite and PostgreSQL): a source is claimed by one worker at
a time, only when it is due, and a dead worker's lease runs out; heartbeats and leaving."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from services.alerts import raise_worker_gone
from storage.workers import SqlWorkers, WorkerBeat

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
EVERY, TTL, GONE = timedelta(seconds=60), timedelta(minutes=2), timedelta(seconds=60)


def _enlist(app: Any, *names: str, at: datetime = NOW) -> None:
    with app.uow() as uow:
        uow.workers.enlist(dict.fromkeys(names, at))


def _claim(app: Any, holder: str, at: datetime, limit: int = 10, leader_only: tuple[str, ...] = ()) -> list[str]:
    with app.uow() as uow:
        return sorted(uow.workers.claim_due(holder, at, limit, TTL, list(leader_only)))


def _release(app: Any, holder: str, name: str, due: datetime | None) -> None:
    with app.uow() as uow:
        uow.workers.release(name, holder, due)


def test_due_sources_are_claimed_once_and_given_back_with_their_next_time(db_url: str, make_app: Any) -> None:
    app = make_app(db_url, [])
    _enlist(app, "feed-1", "feed-2", "feed-3")
    _enlist(app, "feed-1", at=NOW + EVERY)  # a second worker starting: the first due time stays
    assert _claim(app, "a", NOW, limit=2) == ["feed-1", "feed-2"]  # as many as it has free slots
    assert _claim(app, "b", NOW) == ["feed-3"]  # the others are held
    assert _claim(app, "c", NOW + timedelta(seconds=1)) == []
    _release(app, "a", "feed-1", NOW + EVERY)
    _release(app, "a", "feed-2", NOW + timedelta(seconds=5))  # a failure retried sooner
    assert _claim(app, "b", NOW + timedelta(seconds=5)) == ["feed-2"]
    assert _claim(app, "b", NOW + EVERY) == ["feed-1"]
    _release(app, "b", "feed-1", None)  # no longer configured: parked
    assert _claim(app, "b", NOW + 10 * EVERY + TTL) == ["feed-2", "feed-3"]  # their leases ran out
    assert "feed-1" not in _claim(app, "c", NOW + 20 * EVERY)


def test_a_dead_workers_lease_runs_out(db_url: str, make_app: Any) -> None:
    app = make_app(db_url, [])
    _enlist(app, "feed")
    assert _claim(app, "dead", NOW) == ["feed"]  # and never released: SIGKILL mid-poll
    assert _claim(app, "b", NOW + EVERY) == []  # due, but still held
    assert _claim(app, "b", NOW + TTL + timedelta(seconds=1)) == ["feed"]
    _release(app, "dead", "feed", NOW)  # a late release by a worker that lost its lease changes nothing
    assert _claim(app, "c", NOW + TTL + timedelta(seconds=2)) == []


def test_reddit_is_claimed_by_the_leader_alone(db_url: str, make_app: Any) -> None:
    app = make_app(db_url, [])
    _enlist(app, "feed", "reddit")
    assert _claim(app, "follower", NOW, leader_only=("reddit",)) == ["feed"]
    assert _claim(app, "leader", NOW) == ["reddit"]


def test_workers_claiming_at_once_never_share_a_source(db_url: str, make_app: Any) -> None:
    """Eight threads claim a hundred due sources in small bites at the same moment."""
    app = make_app(db_url, [])
    _enlist(app, *(f"feed-{n}" for n in range(100)))
    with ThreadPoolExecutor(8) as pool:
        bites = list(pool.map(lambda n: _claim(app, f"w{n % 8}", NOW, limit=3), range(80)))
    claimed = [name for bite in bites for name in bite]
    assert len(claimed) == len(set(claimed)) == 100


def test_heartbeats_leases_and_leaving(db_url: str, make_app: Any) -> None:
    app = make_app(db_url, [])
    with app.uow() as uow:
        assert uow.workers.beat(WorkerBeat("w1", "host", 1, NOW, NOW, True, 901), GONE) == []
        leaders = uow.workers.beat(WorkerBeat("w2", "host", 2, NOW, NOW, False, 902), GONE)
        assert [(w.name, w.lock_pid) for w in leaders] == [("w1", 901)]  # who to cut off if it goes silent
        uow.workers.beat(WorkerBeat("w1", "host", 1, NOW, NOW + timedelta(seconds=2), True, 901), GONE)  # the next beat
    _enlist(app, "feed-1", "feed-2")
    assert _claim(app, "w2", NOW) == ["feed-1", "feed-2"]
    with app.uow() as uow:
        assert isinstance(uow.workers, SqlWorkers)
        seen = {w.name: (w.leading, w.leases, w.seen_at) for w in uow.workers.seen(NOW)}
    assert seen == {"w1": (True, 0, NOW + timedelta(seconds=2)), "w2": (False, 2, NOW)}
    with app.uow() as uow:
        uow.workers.beat(WorkerBeat("w2", "host", 2, NOW, NOW + timedelta(seconds=3), True, 902), GONE)  # w2 leads now
    with app.uow() as uow:
        assert isinstance(uow.workers, SqlWorkers)
        assert {w.name: w.leading for w in uow.workers.seen(NOW)} == {"w1": False, "w2": True}
        uow.workers.leave("w2")  # a clean stop gives its sources back at once
    with app.uow() as uow:
        assert isinstance(uow.workers, SqlWorkers)
        assert [w.name for w in uow.workers.seen(NOW)] == ["w1"]
    assert _claim(app, "w1", NOW + timedelta(seconds=1)) == ["feed-1", "feed-2"]  # no longer held


def test_a_worker_gone_silent_is_reported_once(db_url: str, make_app: Any) -> None:
    app = make_app(db_url, [])
    with app.uow() as uow:
        uow.workers.beat(WorkerBeat("killed", "host", 7, NOW, NOW, False, None), GONE)
        uow.workers.beat(WorkerBeat("alive", "host", 8, NOW, NOW + GONE, False, None), GONE)
        gone = uow.workers.beat(WorkerBeat("leader", "host", 9, NOW, NOW + GONE + timedelta(seconds=1), True, 1), GONE)
        assert [w.name for w in gone] == ["killed"]
        for w in gone:
            assert raise_worker_gone(uow, w.name, w.seen_at, NOW + GONE)
        later = NOW + 2 * GONE + timedelta(seconds=1)
        again = uow.workers.beat(WorkerBeat("leader", "host", 9, NOW, later, True, 1), GONE)
        assert [w.name for w in again] == ["alive"]  # the killed one's row went with its report
        assert not raise_worker_gone(uow, "killed", NOW, NOW + 2 * GONE)  # a report never comes twice
