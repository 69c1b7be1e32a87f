"""Several workers on one PostgreSQL journal (issue 15's fault test): three `reclaim run`
processes against the local Bot API and a local feed; the leader is SIGKILLed at random points
several times and replaced. Every complaint gets exactly one card, every approval exactly one
public reply, every legal threat one alert; buttons pressed right after a kill are answered by
another worker within 15 s (the times are printed). A second worker on SQLite is refused."""

from __future__ import annotations

import asyncio
import functools
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url

from reclaim.scheduler import Runner
from reclaim.workers import GONE
from sandbox.sites import Page, SiteServer
from sandbox.tcpproxy import TcpProxy
from sandbox.telegram import TOKEN, BotApiServer
from storage.tables import Complaint, Mention, Worker
from storage.workers import WorkerBeat
from tests.conftest import ROOT
from tests.e2e.test_staff_inbox import ANNA, MANAGERS, STAFF, people, telegram_settings
from tests.e2e.test_web import free_port

GROUP = -1001000000077
CUSTOMERS = range(700, 712)
PRIVATE = (801, 802, 803)  # customers who open the private chat from a public reply


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


def got(tg: BotApiServer, who: int, n: int) -> Callable[[], bool]:
    return lambda: len(tg.messages(who)) >= n


def carded(tg: BotApiServer, n: int) -> bool:
    return len(cards(tg)) >= n


class Cluster:
    """Three `reclaim run` workers and what the test does to them."""

    def __init__(self, config: Path, tmp: Path, engine: Any, tg: BotApiServer) -> None:
        self.config, self.tmp, self.engine, self.tg = config, tmp, engine, tg
        self.workers = [start(config, tmp / f"worker-{n}.log") for n in range(3)]
        self.started = 3

    def leader(self) -> subprocess.Popen[bytes]:
        pid = self.tg.wait_for(lambda: leader(self.engine), timeout=30)
        return next(w for w in self.workers if w.pid == pid)

    def replace(self, victim: subprocess.Popen[bytes]) -> None:
        self.workers = [w for w in self.workers if w is not victim]
        self.workers.append(start(self.config, self.tmp / f"worker-{self.started}.log"))
        self.started += 1

    def kill_leader(self) -> float:
        victim = self.leader()
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        self.replace(victim)
        return time.monotonic()

    def press_approve(self, rng: random.Random) -> str:
        card = rng.choice(approvable(self.tg))
        return self.tg.press(STAFF, card["message_id"], ANNA, label="✅ Approve")

    def answered_after(self, query: str, since: float, timeout: float = 40) -> float:
        self.tg.wait_for(lambda: self.tg.answer(query), timeout=timeout)
        return self.tg.answered_at(query) - since

    def stop(self) -> None:
        for w in self.workers:
            w.send_signal(signal.SIGCONT)
            w.send_signal(signal.SIGTERM)
        for w in self.workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()


def kills_while_complaints_arrive(c: Cluster, rng: random.Random) -> tuple[int, list[float]]:
    """Four rounds: three new complaints, the leader SIGKILLed at a random moment, a button
    pressed at once; how long until another worker answered it."""
    posted, takeovers = 0, []
    for _ in range(4):
        for customer in CUSTOMERS[posted : posted + 3]:  # new complaints keep arriving across the kills
            words = "I will sue Nordlys, my lawyer has the papers" if customer % 4 == 0 else "never arrived"
            c.tg.send_text(GROUP, customer, f"Nordlys order of {customer}: {words}, very disappointed")
        posted += 3
        c.tg.wait_for(functools.partial(carded, c.tg, posted + 3), timeout=60)  # the group's and the feed's
        time.sleep(rng.uniform(0.0, 2.0))  # the kill lands anywhere
        killed = c.kill_leader()
        takeovers.append(c.answered_after(c.press_approve(rng), killed))
    return posted, takeovers


def frozen_leader(c: Cluster, rng: random.Random) -> float:
    """The leader stops (SIGSTOP) with its connection open: the others cut it off after STALE;
    woken again it finds its lock gone and steps down without sending anything twice."""
    frozen = c.leader()
    frozen.send_signal(signal.SIGSTOP)
    since = time.monotonic()
    took = c.answered_after(c.press_approve(rng), since, timeout=60)
    frozen.send_signal(signal.SIGCONT)
    c.tg.wait_for(lambda: _stepped_down(c), 30)
    return took


def _stepped_down(c: Cluster) -> bool:
    return any(b"no longer leads" in p.read_bytes() for p in c.tmp.glob("worker-*.log"))


def conversations_across_a_kill(c: Cluster, rng: random.Random) -> dict[int, list[str]]:
    """Customers open the private chat from the public reply while the leader is killed: each
    message is answered, none lost."""
    with c.engine.connect() as conn:
        tokens = conn.execute(select(Complaint.token).where(Complaint.status == "published").limit(3)).scalars().all()
    people = dict(zip(PRIVATE, tokens, strict=False))
    for who, token in people.items():
        c.tg.send_text(who, who, f"/start {token}")
    time.sleep(rng.uniform(0.0, 0.3))
    c.kill_leader()
    for who in people:
        c.tg.wait_for(got(c.tg, who, 2), timeout=40)  # welcome + the first question
        c.tg.send_text(who, who, "Order 48213")
    for who in people:
        c.tg.wait_for(got(c.tg, who, 3), timeout=40)
    time.sleep(3)  # anything sent twice would be sent by now
    return {who: [m["text"] for m in c.tg.messages(who)] for who in people}


def test_three_workers_survive_the_leader_being_killed(pg_url: str, tmp_path: Path) -> None:
    rng = random.Random(15)
    engine = create_engine(pg_url)
    with BotApiServer() as tg, SiteServer() as site:
        people(tg)
        tg.add_group(GROUP, "Nordlys community")
        for who in (*CUSTOMERS, *PRIVATE):
            tg.add_user(who, f"Customer {who}")
        site.add("/feed.xml", Page(feed(3), content_type="application/rss+xml"))
        c = Cluster(write_config(tmp_path / "config.yaml", pg_url, tg, site), tmp_path, engine, tg)
        try:
            posted, takeovers = kills_while_complaints_arrive(c, rng)
            frozen = frozen_leader(c, rng)
            for card in approvable(tg):
                tg.press(STAFF, card["message_id"], ANNA, label="✅ Approve")
            settle(c, posted)
            chats = conversations_across_a_kill(c, rng)
        finally:
            c.stop()
        print(f"takeover (kill → button answered by another worker), s: {[round(t, 1) for t in takeovers]}; "
              f"a frozen leader cut off and replaced in {frozen:.1f} s")  # fmt: skip
        assert max(takeovers) < 15
        per_complaint = cards(tg)
        assert len(per_complaint) == posted + 3 and set(per_complaint.values()) == {1}, per_complaint
        replies = Counter(m["reply_to_message"]["message_id"] for m in tg.messages(GROUP) if "reply_to_message" in m)
        assert len(replies) == posted and set(replies.values()) == {1}, replies  # one public reply per approval
        alerts = [m["text"] for m in tg.messages(MANAGERS)]
        assert sum("Legal threat" in a for a in alerts) == sum(1 for x in CUSTOMERS[:posted] if x % 4 == 0)
        assert len(alerts) == len(set(alerts)), alerts  # no alert twice
        for texts in chats.values():  # welcome, first question, the next question: none lost, and
            # only a message the kill cut off mid-send may come twice (private messages go at least
            # once across a crash; public replies never twice, as asserted above)
            assert len(set(texts)) == 3 and len(texts) <= 4, texts
    engine.dispose()


def settle(c: Cluster, posted: int) -> None:
    """Every group complaint published. A reply a kill cut off mid-send is never re-sent blindly:
    its card asks a person, who looks in the group (as test_crash does) and answers."""
    deadline = time.monotonic() + 90
    while published(c.engine) < posted and time.monotonic() < deadline:
        for card in c.tg.messages(STAFF):
            labels = [b["text"] for row in card.get("reply_markup", {}).get("inline_keyboard", []) for b in row]
            if "It was posted" in labels:
                data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
                replied = int(data.split(":")[1]) in answered(c)
                c.tg.press(STAFF, card["message_id"], ANNA, label="It was posted" if replied else "Post again")
        time.sleep(1)
    assert published(c.engine) >= posted


def answered(c: Cluster) -> set[int]:
    """The complaints whose group message has our reply."""
    replied = {m["reply_to_message"]["message_id"] for m in c.tg.messages(GROUP) if "reply_to_message" in m}
    with c.engine.connect() as conn:
        rows = conn.execute(select(Complaint.id, Mention.origin).join(Mention, Mention.id == Complaint.mention_id))
        return {cid for cid, origin in rows if origin and origin.get("message_id") in replied}


def published(engine: Any) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(Complaint.id).where(Complaint.status == "published")).all())


def test_a_second_worker_on_sqlite_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    data = {"brand": {"name": "Nordlys"}, "database": {"url": f"sqlite:///{tmp_path / 'journal.db'}"}, "sources": []}
    config.write_text(yaml.safe_dump({**data, "web": {"enabled": False}}), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    cmd = [sys.executable, "-m", "reclaim", "--config", str(config), "run"]
    first = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        polls_before = REGISTRY.get_sample_value("reclaim_polls_total", {"outcome": "ok", "source": "forum"}) or 0.0
        kinds_before = REGISTRY.get_sample_value("reclaim_mentions_total", {"kind": "complaint"}) or 0.0
        stop = asyncio.Event()
        task = asyncio.create_task(Runner(app).run(until=stop))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                ready = await _until(client, "/readyz", lambda r: r.status_code == 200)
                assert ready.json()["checks"]["journal"] == {"ok": True}
                # the counters are the process's: other tests in this process counted before
                polled = f'reclaim_polls_total{{outcome="ok",source="forum"}} {polls_before + 1:.1f}'
                metrics = (await _until(client, "/metrics", lambda r: polled in r.text)).text
                assert "reclaim_journal_up 1.0" in metrics and 'reclaim_complaints{kind="complaint"' in metrics
                assert f'reclaim_mentions_total{{kind="complaint"}} {kinds_before + 2:.1f}' in metrics
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


async def test_a_stalled_source_is_alerted_once_and_its_recovery_too(
    db_url: str, make_app: Any, site: SiteServer
) -> None:
    """No poll of a source for twice its interval: one alert to the managers naming it; polled
    again: one notice that polling is back on time."""
    site.add("/feed.xml", Page(feed(1), content_type="application/rss+xml"))
    with BotApiServer() as tg:
        people(tg)
        app = make_app(
            db_url,
            [{"name": "forum", "kind": "rss", "url": site.url("/feed.xml"), "every": "10s"}],
            telegram=telegram_settings(tg),
            alerts={"check_every": "1s"},
            polling={"retries": 0, "workers": 0, "jitter": "0s"},
        )
        past = datetime.now(UTC) - timedelta(minutes=5)  # a worker killed before this one started
        with app.uow() as uow:
            uow.workers.beat(WorkerBeat("old-host:4242:abcdef", "old-host", 4242, past, past, False, None), GONE)
        runner = Runner(app)
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(until=stop))
        try:

            def managers() -> list[str]:
                return [m["text"] for m in tg.messages(MANAGERS)]

            await asyncio.to_thread(tg.wait_for, lambda: app.__dict__.get("db") and runner.polls >= 1, 30)
            claim = runner.rounds.claim
            runner.rounds.claim = lambda limit: []  # type: ignore[method-assign]  # the worker stops polling
            await asyncio.to_thread(tg.wait_for, lambda: any("Polling has stalled" in t for t in managers()), 40)
            assert [t for t in managers() if "stalled" in t] == [
                "🛑 Polling has stalled: 1 source(s) not polled for over twice their interval: forum."
            ]
            runner.rounds.claim = claim  # type: ignore[method-assign]
            await asyncio.to_thread(tg.wait_for, lambda: any("back on time" in t for t in managers()), 30)
            await asyncio.sleep(2.5)  # further checks raise nothing more
            assert sum("Polling has stalled" in t for t in managers()) == 1
            assert sum("back on time" in t for t in managers()) == 1
            gone = [t for t in managers() if "old-host:4242:abcdef" in t]
            assert len(gone) == 1 and gone[0].startswith("🛑 Worker old-host:4242:abcdef stopped answering at ")
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)
