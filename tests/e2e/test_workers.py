"""Several workers on one PostgreSQL journal (issue 15's fault test): three `reclaim run`
processes against the local Bot API and a local feed; the leader is SIGKILLed at random points
several times and replaced. Every complaint gets exactly one card, every approval exactly one
public reply, every legal threat one alert; buttons pressed right after a kill are answered by
another worker within 15 s (the times are printed). A second worker on SQLite is refused."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from reclaim.scheduler import Runner
from sandbox.sites import Page, SiteServer
from sandbox.tcpproxy import TcpProxy
from sandbox.telegram import TOKEN, BotApiServer
from storage.tables import Complaint, Worker
from tests.conftest import PG_URL, ROOT, missing
from tests.e2e.test_staff_inbox import ANNA, MANAGERS, STAFF, people, telegram_settings
from tests.e2e.test_web import free_port

GROUP = -1001000000077
CUSTOMERS = range(700, 712)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A schema of its own on the machine's PostgreSQL."""
    if not PG_URL:
        missing("RECLAIM_TEST_DATABASE_URL (PostgreSQL) is not set")
    assert PG_URL is not None
    schema = f"w_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def feed(n: int) -> bytes:
    items = "".join(
        f"<item><title>Nordlys parcel {i}</title><link>https://example.org/{i}</link><guid>post-{i}</guid>"
        f"<description>Nordlys lost my parcel {i} and nobody answers, very disappointed</description></item>"
        for i in range(n)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def write_config(path: Path, db_url: str, tg: BotApiServer, site: SiteServer) -> Path:
    settings = telegram_settings(tg)
    settings["token"] = "${TELEGRAM_BOT_TOKEN}"
    data = {
        "brand": {"name": "Nordlys"},
        "database": {"url": db_url},
        "web": {"enabled": False},
        "telegram": settings,
        "polling": {"jitter": "0s", "workers": 0, "retries": 0},
        "alerts": {"check_every": "2s"},
        "sources": [
            {"name": "tg-community", "kind": "telegram_group", "chats": [GROUP]},
            {"name": "forum", "kind": "rss", "url": site.url("/feed.xml"), "every": "10s"},
        ],
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "reclaim", "--config", str(config), "-v", "run"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def cards(tg: BotApiServer) -> Counter[int]:
    """How many card messages each complaint has in the staff chat."""
    seen: Counter[int] = Counter()
    for m in tg.messages(STAFF):
        data = [b.get("callback_data", "") for row in m.get("reply_markup", {}).get("inline_keyboard", []) for b in row]
        if data and data[0].startswith("c:"):
            seen[int(data[0].split(":")[1])] += 1
    return seen


def leader(engine: Any) -> int | None:
    with engine.connect() as conn:
        rows = conn.execute(select(Worker.pid).where(Worker.leading).order_by(Worker.seen_at.desc())).all()
    return rows[0][0] if rows else None


def approvable(tg: BotApiServer) -> list[dict[str, Any]]:
    out = []
    for m in tg.messages(STAFF):
        labels = [b["text"] for row in m.get("reply_markup", {}).get("inline_keyboard", []) for b in row]
        if "✅ Approve" in labels:
            out.append(m)
    return out


def test_three_workers_survive_the_leader_being_killed(pg_url: str, tmp_path: Path) -> None:
    rng = random.Random(15)
    engine = create_engine(pg_url)
    workers: list[subprocess.Popen[bytes]] = []
    with BotApiServer() as tg, SiteServer() as site:
        people(tg)
        tg.add_group(GROUP, "Nordlys community")
        for c in CUSTOMERS:
            tg.add_user(c, f"Customer {c}")
        site.add("/feed.xml", Page(feed(3), content_type="application/rss+xml"))
        config = write_config(tmp_path / "config.yaml", pg_url, tg, site)
        try:
            workers = [start(config, tmp_path / f"worker-{n}.log") for n in range(3)]
            posted = 0
            takeovers: list[float] = []
            for round_ in range(4):
                for c in CUSTOMERS[posted : posted + 3]:  # new complaints keep arriving across the kills
                    words = "I will sue Nordlys, my lawyer has the papers" if c % 4 == 0 else "never arrived"
                    tg.send_text(GROUP, c, f"Nordlys order of {c}: {words}, very disappointed")
                posted += 3
                tg.wait_for(lambda n=posted: len(cards(tg)) >= n + 3, timeout=60)  # the group's and the feed's
                time.sleep(rng.uniform(0.0, 2.0))  # the kill lands anywhere
                pid = tg.wait_for(lambda: leader(engine), timeout=30)
                victim = next(w for w in workers if w.pid == pid)
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                killed = time.monotonic()
                card = rng.choice(approvable(tg))
                query = tg.press(STAFF, card["message_id"], ANNA, label="✅ Approve")
                tg.wait_for(lambda q=query: tg.answer(q), timeout=30)
                takeovers.append(tg.answered_at(query) - killed)
                workers = [w for w in workers if w is not victim] + [start(config, tmp_path / f"worker-r{round_}.log")]
            for card in approvable(tg):
                tg.press(STAFF, card["message_id"], ANNA, label="✅ Approve")

            def published() -> bool:
                with engine.connect() as conn:
                    statuses = conn.execute(select(Complaint.status, Complaint.mention_id)).all()
                return len(statuses) == posted + 3 and sum(s == "published" for s, _ in statuses) >= posted

            tg.wait_for(published, timeout=60)
            time.sleep(3)  # anything sent twice would be sent by now
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            for w in workers:
                try:
                    w.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    w.kill()
        print("takeover (kill → button answered by another worker), s:", [round(t, 1) for t in takeovers])
        assert max(takeovers) < 15
        per_complaint = cards(tg)
        assert len(per_complaint) == posted + 3 and set(per_complaint.values()) == {1}, per_complaint
        replies = Counter(m["reply_to_message"]["message_id"] for m in tg.messages(GROUP) if "reply_to_message" in m)
        assert len(replies) == posted and set(replies.values()) == {1}, replies  # one public reply per approval
        threats = sum(1 for c in CUSTOMERS[:posted] if c % 4 == 0)
        alerts = [m for m in tg.messages(MANAGERS) if "Legal threat" in m.get("text", "")]
        assert len(alerts) == threats
    engine.dispose()


def test_a_second_worker_on_sqlite_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    data = {"brand": {"name": "Nordlys"}, "database": {"url": f"sqlite:///{tmp_path / 'journal.db'}"}, "sources": []}
    config.write_text(yaml.safe_dump({**data, "web": {"enabled": False}}), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    cmd = [sys.executable, "-m", "reclaim", "--config", str(config), "run"]
    first = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "journal.db.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        second = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert "in use by another `reclaim run`" in second.stderr and "PostgreSQL" in second.stderr, second.stderr
        assert first.poll() is None  # the first goes on
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)
    again = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:  # once it stopped (SIGKILL alike: the lock is the kernel's), a worker starts again
        time.sleep(3)
        assert again.poll() is None
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=30)


async def _until(client: Any, path: str, check: Any, timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = await client.get(path)
            if check(r):
                return r
        except Exception:  # the server is not up yet
            r = None
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never came to that: {r and r.status_code} {r and r.text}")
        await asyncio.sleep(0.25)


async def test_readyz_follows_the_journal_going_away_and_coming_back(
    pg_url: str, make_app: Any, site: SiteServer
) -> None:
    """/readyz turns unready when the journal's PostgreSQL goes away (a proxy in front of it is
    cut) and ready again when it returns; the worker carries on polling without a restart."""
    site.add("/feed.xml", Page(feed(2), content_type="application/rss+xml"))
    url = make_url(pg_url)
    with TcpProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        port = free_port()
        app = make_app(
            proxied,
            [{"name": "forum", "kind": "rss", "url": site.url("/feed.xml"), "every": "10s"}],
            web={"listen": f"127.0.0.1:{port}"},
            polling={"retries": 0, "workers": 0, "jitter": "0s"},
        )
        stop = asyncio.Event()
        task = asyncio.create_task(Runner(app).run(until=stop))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                ready = await _until(client, "/readyz", lambda r: r.status_code == 200)
                assert ready.json()["checks"]["journal"] == {"ok": True}
                polled = 'reclaim_polls_total{outcome="ok",source="forum"} 1.0'
                metrics = (await _until(client, "/metrics", lambda r: polled in r.text)).text
                assert "reclaim_journal_up 1.0" in metrics and 'reclaim_complaints{kind="complaint"' in metrics
                proxy.cut()
                down = await _until(client, "/readyz", lambda r: r.status_code == 503)
                assert down.json()["checks"]["journal"]["ok"] is False
                assert (await client.get("/healthz")).status_code == 200  # the process itself answers
                assert "reclaim_journal_up 0.0" in (await client.get("/metrics")).text
                site.add("/feed.xml", Page(feed(3), content_type="application/rss+xml"))  # news while it is away
                proxy.restore()
                await _until(client, "/readyz", lambda r: r.status_code == 200)

                def mentions() -> int:
                    with app.sessions() as s:
                        return len(s.scalars(select(Complaint.id)).all())

                deadline = time.monotonic() + 40
                while mentions() < 3 and time.monotonic() < deadline:
                    await asyncio.sleep(0.5)
                assert mentions() == 3  # the item that came while the journal was away, once
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)
