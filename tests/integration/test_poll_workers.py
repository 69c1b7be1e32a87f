"""`reclaim poll --once` forks its parse workers at once, before it has a thread or an event
loop, so they start with everything imported; where that is not safe it starts fresh
interpreters when needed, as `reclaim run` does. Both read the feeds alike."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select

from reclaim.poller import fork_workers
from sandbox.sites import Page, SiteServer
from storage.tables import Complaint, Mention
from tests.conftest import make_settings, poll_all
from tests.integration.test_poll import ITEMS, feed

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, site: SiteServer, workers: int) -> tuple[Path, str]:
    db = f"sqlite:///{tmp_path / 'journal.db'}"
    sources = [{"name": f"blog{i}", "kind": "rss", "url": site.add(f"/f{i}.xml", Page(feed(*ITEMS)))} for i in range(3)]
    data = make_settings(db, sources, polling={"retries": 0, "workers": workers}).model_dump(
        mode="json", exclude_defaults=True
    )
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return config, db


def _counts(db: str) -> tuple[int, int]:
    engine = create_engine(db)
    with engine.connect() as conn:
        found = (
            conn.execute(select(func.count()).select_from(Mention)).scalar_one(),
            conn.execute(select(func.count()).select_from(Complaint)).scalar_one(),
        )
    engine.dispose()
    return found


def test_poll_once_forks_its_workers_and_reads_every_feed(tmp_path: Path, site: SiteServer) -> None:
    config, db = _config(tmp_path, site, workers=2)
    proc = subprocess.run(
        [sys.executable, "-m", "reclaim", "--config", str(config), "-vv", "poll", "--once"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "2 parse worker(s) forked" in proc.stderr
    assert _counts(db) == (9, 6)  # three feeds: 3 brand mentions, 2 of them complaints, each
    again = subprocess.run(
        [sys.executable, "-m", "reclaim", "--config", str(config), "poll", "--once"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert _counts(db) == (9, 6)


def test_no_fork_beside_another_thread_or_without_workers(tmp_path: Path, site: SiteServer, make_app: Any) -> None:
    _config_path, db = _config(tmp_path, site, workers=2)
    sources = [{"name": "blog", "kind": "rss", "url": site.add("/one.xml", Page(feed(*ITEMS)))}]
    assert fork_workers(make_app(db, sources)) is None  # polling.workers: 0
    app = make_app(db, sources, polling={"retries": 0, "workers": 2})
    # this test process has the site server's thread: a fork could copy a lock that thread holds
    assert threading.active_count() > 1
    assert fork_workers(app) is None
    (outcome,) = poll_all(app)  # the Poller starts fresh interpreters instead
    assert outcome.ok and outcome.added == 3 and outcome.complaints == 2
