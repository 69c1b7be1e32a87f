"""Shared fixtures: a database per test (SQLite, and PostgreSQL when RECLAIM_TEST_DATABASE_URL
is set), a local HTTP site, and settings built from plain dicts."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from reclaim.app import App
from reclaim.poller import Outcome, Poller
from reclaim.settings import Settings
from sandbox.sites import SiteServer

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "fixtures"
PG_URL = os.environ.get("RECLAIM_TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


def missing(what: str) -> None:
    """Something a test needs is not on this machine: skipped on a developer's machine, a
    failure in CI (CI=true), where .ci/run installs everything and shared/ lies beside the clone."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI installs it: see .ci/run)", pytrace=False)
    pytest.skip(what)


def shared_fixture(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        missing(f"shared fixtures not found at {path}")
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test is marked by its tier (its folder): `make unit` runs the fast one alone."""
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in ("unit", "integration", "e2e"):
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'journal.db'}"
        return
    yield from pg_schema()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A schema of its own on the machine's PostgreSQL (tests of several workers need it)."""
    if not PG_URL:
        missing("RECLAIM_TEST_DATABASE_URL (PostgreSQL) is not set")
    yield from pg_schema()


def pg_schema() -> Iterator[str]:
    """A new schema on the PostgreSQL server, as a database URL; dropped afterwards."""
    assert PG_URL is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer() as server:
        yield server


def poll_all(app: App) -> list[Outcome]:
    """One poll of every configured source, with a Poller of its own."""

    async def go() -> list[Outcome]:
        poller = Poller(app)
        try:
            return await poller.poll(app.settings.sources)
        finally:
            await poller.aclose()

    return asyncio.run(go())


def make_settings(db_url: str, sources: list[dict[str, Any]], **extra: Any) -> Settings:
    data: dict[str, Any] = {
        "brand": {"name": "Nordlys", "aliases": ["nordlys", "нордлис", "nordlys.shop"]},
        "database": {"url": db_url},
        "telegram": {"bot_username": "nordlys_care_bot"},
        "polling": {"retries": 0, "backoff_base": "30s", "workers": 0},
        "sources": sources,
        "web": {"enabled": False},  # tests that want the dashboard say so (and pick a free port)
    }
    data.update(extra)
    return Settings.model_validate(data)


@pytest.fixture
def make_app() -> Iterator[Any]:
    apps: list[App] = []

    def factory(db_url: str, sources: list[dict[str, Any]], **extra: Any) -> App:
        app = App(make_settings(db_url, sources, **extra))
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.close()
