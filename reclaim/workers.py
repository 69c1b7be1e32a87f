"""Several `reclaim run` workers on one PostgreSQL journal; one on SQLite.

- **Sources** are shared out by leases in the journal (storage/workers.py): each poll claims its
  source first, so a source is polled by one worker at a time, and a dead worker's sources go to
  the others once their lease runs out.
- **Leadership**: what must happen once (getting Telegram's updates and sending the outbox, the
  deadline, promise, spike and stall checks, the policy, the monthly review, the purge, training)
  runs on the worker holding a PostgreSQL advisory lock. The lock lives on a connection of its
  own, so it goes the moment its worker dies (SIGKILL included: the server sees the socket
  close) and another worker takes it at its next heartbeat. A leader that stops beating while
  its connection stays open (a frozen process) is cut off by the others, whose heartbeat ends
  its lock's session.
- **SQLite** takes one worker: a second `reclaim run` on the same file is refused, by a lock the
  operating system drops when the first process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

log = logging.getLogger("reclaim.workers")

BEAT = timedelta(seconds=2)  # how often each worker says it is alive and tries to lead
STALE = timedelta(seconds=20)  # a leader silent this long is cut off by the others
GONE = timedelta(seconds=60)  # a worker silent this long is reported to the managers, once
# the lock's key: one per journal (database and schema), so journals on one server never collide
_LOCK = "SELECT pg_try_advisory_lock(hashtext('reclaim-leader:' || current_database() || ':' || current_schema()))"
_CUT_OFF = (
    "SELECT bool_or(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND objid = (hashtext('reclaim-leader:' || current_database() || ':' || current_schema()))::oid "
    "AND pid = :pid AND pid <> pg_backend_pid()"
)
# libpq: keepalives and a send timeout on the lock's connection (a dead server is seen in seconds)
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 2,
             "tcp_user_timeout": 8000, "connect_timeout": 5}  # fmt: skip
# the server's side: a statement never hangs, and a vanished leader's session ends in ~11 s
SESSION = (
    "SET statement_timeout = '3s'",
    "SET tcp_keepalives_idle = 5",
    "SET tcp_keepalives_interval = 2",
    "SET tcp_keepalives_count = 3",
)


class StartError(RuntimeError):
    """`reclaim run` cannot start as configured; the message says what to do."""


def worker_name() -> str:
    """This process among the workers: host, pid and a random part (a pid is reused)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(3)}"


def sqlite_path(url: str) -> Path | None:
    """The SQLite journal's file, or None (PostgreSQL, or SQLite in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser().resolve()


class SqliteGuard:
    """One `reclaim run` per SQLite journal: an exclusive lock on ``<journal>.lock``."""

    def __init__(self, journal: Path) -> None:
        self.path = journal.with_name(journal.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip() or "another process"
            handle.close()
            raise StartError(
                f"the SQLite journal {self.path.with_suffix('')} is in use by another `reclaim run` "
                f"({other}). SQLite takes one worker; for several, put the journal on PostgreSQL "
                '(database.url: postgresql+psycopg://…, see the README\'s "Running it for real")'
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class Leadership:
    """Whether this worker leads. Blocking calls: run them on a thread.

    The lock's connection is its own (no pool), with a 3 s statement timeout and TCP keepalives
    both ways: a leader cut off from the server notices within seconds and steps down, well
    before the server gives up on its session (about 11 s) and frees the lock for another."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.shared = make_url(url).get_backend_name() == "postgresql"
        self.leading = not self.shared  # SQLite: the only worker leads
        self.pid: int | None = None  # the lock session's backend, kept in the worker's row
        self._engine: Engine | None = None
        self._conn: Connection | None = None

    def _connection(self) -> Connection:
        if self._conn is None:
            if self._engine is None:
                self._engine = create_engine(self.url, poolclass=NullPool, connect_args=KEEPALIVE)
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            for setting in SESSION:
                conn.execute(text(setting))
            self.pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
            self._conn = conn
        return self._conn

    def check(self) -> bool:
        """Try to lead (or make sure we still do); False, and the lock let go, on any failure."""
        if not self.shared:
            return True
        try:
            conn = self._connection()
            if self.leading:
                conn.execute(text("SELECT 1"))  # the session that holds the lock is alive
            else:
                self.leading = bool(conn.execute(text(_LOCK)).scalar())
        except Exception as exc:
            if self.leading:
                log.error("lost the journal's connection while leading (%s): stepping down", type(exc).__name__)
            self._drop()
        return self.leading

    def cut_off(self, pid: int, silent_since: datetime) -> bool:
        """End the session ``pid`` of a leader that stopped beating, if it still holds the lock
        (the lock goes with the session); never another worker's."""
        if not self.shared or self.leading:
            return False
        try:
            done = bool(self._connection().execute(text(_CUT_OFF), {"pid": pid}).scalar())
        except Exception:
            log.exception("cutting off the silent leader failed")
            self._drop()
            return False
        if done:
            log.error("the leading worker was silent since %s: its journal session %d was ended", silent_since, pid)
        return done

    def step_down(self) -> None:
        self._drop()
        if self._engine is not None:
            self._engine.dispose()

    def _drop(self) -> None:
        self.leading = not self.shared
        self.pid = None
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # the server ends the session, and with it the lock
                conn.close()
            except Exception:  # already gone
                log.debug("closing the leadership connection", exc_info=True)
