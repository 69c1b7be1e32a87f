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


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_poll_once_stopped_by_sigterm_or_ctrl_c_leaves_no_worker_behind(tmp_path: Path, site: SiteServer) -> None:
    """`timeout 60 reclaim poll --once` or a kill of the process alone: the workers are shut down
    with it (before, they waited for work for ever under init), and Ctrl-C prints no worker
    tracebacks."""
    import signal
    import time

    from sandbox.hostile import HostileServer

    for sig in (signal.SIGTERM, signal.SIGINT):
        with HostileServer(trickle_for=60) as hostile:
            config, _db = _config(tmp_path, site, workers=2)
            data = json.loads(config.read_text())
            data["sources"].append({"name": "slow", "kind": "rss", "url": hostile.url("/trickle"), "timeout": "50s"})
            config.write_text(json.dumps(data))
            proc = subprocess.Popen(
                [sys.executable, "-m", "reclaim", "--config", str(config), "poll", "--once"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            deadline = time.monotonic() + 30
            while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            workers = _children(proc.pid)
            assert len(workers) >= 2
            time.sleep(1.5)  # the feeds are read; the trickle holds the poll
            proc.send_signal(sig)
            _out, err = proc.communicate(timeout=30)
            assert proc.returncode in (130, 143, -sig), (proc.returncode, err[-800:])
            time.sleep(1)
            left = [w for w in workers if Path(f"/proc/{w}").exists() and "Z" not in _state(w)]
            assert left == [], f"{sig!r}: workers {left} still running"
            assert "Process ForkProcess" not in err, err[-800:]
        (tmp_path / "journal.db").unlink()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
    except OSError:
        return "Z"
