"""Engines and schema: SQLite in WAL mode or PostgreSQL, migrated to the newest Alembic revision."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")
_REVISION = re.compile(r"""^(down_revision|revision)\s*=\s*["'](\w+)["']""", re.MULTILINE)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
        engine = create_engine(parsed, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy, not the driver, begins transactions
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
            # SQLite's own lower() folds ASCII only: searches in Danish or Russian would miss
            dbapi_conn.create_function("lower", 1, _lower, deterministic=True)

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so two
            # writers never fail on upgrading a stale read snapshot (SQLITE_BUSY_SNAPSHOT).
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs["pool_pre_ping"] = True
    if parsed.get_backend_name() == "postgresql":  # a server that went away fails a call in seconds, not minutes
        kwargs["connect_args"] = {"connect_timeout": 5}
    return create_engine(parsed, **kwargs)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


MIGRATE_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtext('reclaim-migrate:' || current_database() || ':' || current_schema()))"
)


@functools.cache
def head_revision() -> str | None:
    """The newest revision, read from the migration files' text rather than by importing Alembic
    and every migration: the one revision no other revises (None unless exactly one is, and
    Alembic decides then)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for field, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (revised if field == "down_revision" else revisions).add(value)
    heads = revisions - revised
    return next(iter(heads)) if len(heads) == 1 else None


def _at_head(conn: Connection) -> bool:
    head = head_revision()
    if head is None or not inspect(conn).has_table("alembic_version"):
        return False
    return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) == [head]


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision. A journal already there is only read: every
    command opens the journal, and Alembic with its migrations takes a tenth of a second or
    more to import and walk (bench/cli.py)."""
    with engine.connect() as conn:
        if _at_head(conn):
            return
    from alembic import command

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # workers starting together migrate one after the other
            conn.execute(text(MIGRATE_LOCK))
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class DbThreads:
    """Where async code runs its blocking journal calls. SQLite gets one thread: it has one
    writer at a time anyway, and a second thread would only sleep in SQLite's busy handler
    (1, 2, 5 … 100 ms naps) while the first finishes. PostgreSQL gets a few."""

    def __init__(self, url: str, *, threads: int = 8) -> None:
        sqlite = make_url(url).get_backend_name() == "sqlite"
        self.pool = ThreadPoolExecutor(max_workers=1 if sqlite else threads, thread_name_prefix="reclaim-db")

    async def __call__(self, fn: Callable[..., T], /, *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, functools.partial(fn, *args))

    def close(self) -> None:
        self.pool.shutdown(wait=True)
