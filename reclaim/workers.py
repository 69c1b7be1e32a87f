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

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger("reclaim.workers")

BEAT = timedelta(seconds=2)  # how often each worker says it is alive and tries to lead
STALE = timedelta(seconds=20)  # a leader silent this long is cut off by the others
# the lock's key: one per journal (database and schema), so journals on one server never collide
_LOCK = "SELECT pg_try_advisory_lock(hashtext('reclaim-leader:' || current_database() || ':' || current_schema()))"
_CUT_OFF = (
    "SELECT bool_or(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND objid = (hashtext('reclaim-leader:' || current_database() || ':' || current_schema()))::oid "
    "AND pid <> pg_backend_pid()"
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
    """Whether this worker leads. Blocking calls: run them on a thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.shared = engine.dialect.name == "postgresql"
        self.leading = not self.shared  # SQLite: the only worker leads
        self._conn: Connection | None = None

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
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

    def cut_off(self, silent_since: datetime) -> bool:
        """End the session of a leader that stopped beating (its advisory lock goes with it)."""
        if not self.shared or self.leading:
            return False
        log.error("the leading worker has been silent since %s: ending its journal session", silent_since)
        try:
            return bool(self._connection().execute(text(_CUT_OFF)).scalar())
        except Exception:
            log.exception("cutting off the silent leader failed")
            self._drop()
            return False

    def step_down(self) -> None:
        self._drop()

    def _drop(self) -> None:
        self.leading = not self.shared
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # the server ends the session, and with it the lock
                conn.close()
            except Exception:  # already gone
                log.debug("closing the leadership connection", exc_info=True)
