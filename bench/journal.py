"""The dashboard and the monthly review on a big journal.

1,000,000 mentions and 200,000 complaints are written over six months, together with their
events, drafts, promises and alerts, in bulk. The dashboard's own ASGI app is then timed in
process over httpx, logged in as a manager:
- the login page, as the baseline;
- the inbox (all open complaints, and filtered);
- complaint pages;
- the monthly review.
Each line prints p50 and p95, the ratio to the baseline, and the targets: pages under 200 ms,
the review under 5 s.

    .venv/bin/python bench/journal.py [--mentions 1000000] [--complaints 200000]
    .venv/bin/python bench/journal.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

from reclaim.app import App  # noqa: E402
from reclaim.settings import Settings  # noqa: E402
from storage.tables import Complaint, Draft, Event, Mention, Outbox, Promise  # noqa: E402

SOURCES = ["trustpilot", "reddit-nordlys", "community", "forum-dk", "otzyvy", "tg-fans", "anmeldelser", "blog"]
LANGS = {"trustpilot": "en", "reddit-nordlys": "en", "community": "en", "forum-dk": "da", "otzyvy": "ru",
         "tg-fans": "da", "anmeldelser": "da", "blog": "en"}  # fmt: skip
STATUSES = ["closed"] * 50 + ["published"] * 20 + ["private"] * 8 + ["rejected"] * 6 + ["draft_ready"] * 10
STATUSES += ["awaiting_post"] * 4 + ["approved"] * 2
CHUNK = 5000
GRIPE = "the order never arrived, nobody answers"
CAUSES = ["late_delivery", "wrong_item", "damaged_goods"]
PASSWORD = "bench password 123"


def chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _mention_rows(
    rng: random.Random, start: datetime, end: datetime, mentions: int, complaints: int
) -> Iterator[dict[str, Any]]:
    span = (end - start).total_seconds()
    every = max(mentions // complaints, 1)
    for n in range(mentions):
        source = SOURCES[n % len(SOURCES)]
        fetched = start + timedelta(seconds=span * n / mentions)
        is_complaint = n % every == 0 and n // every < complaints
        yield {
            "source": source, "external_id": f"m{n}", "url": f"https://example.org/{source}/{n}",
            "author": rng.choice(["Kim", "Lee", "Emma Wilson", "Ole", None]), "title": None,
            "text": f"Mention {n}: " + (GRIPE if is_complaint else "lovely coat"),
            "published_at": fetched - timedelta(minutes=rng.uniform(1, 300)), "fetched_at": fetched,
            "rating": None, "language": LANGS[source],
            "kind": "complaint" if is_complaint else rng.choice(["praise"] * 6 + ["question", "other"]),
            "flags": [], "severity": "normal", "category": rng.choice(["delivery", "quality", "staff", "billing"]),
            "triage": {}, "origin": None,
        }  # fmt: skip


def _when(value: Any) -> datetime:
    d = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d


def _complaint_rows(rng: random.Random, ids: list[Any]) -> Iterator[dict[str, Any]]:
    owners = [(111, "Anna"), (222, "Bob"), (333, "Maria"), (None, None)]
    for mid, fetched, lang, source in ids:
        created = _when(fetched)
        status = rng.choice(STATUSES)
        answered = (
            None
            if status in ("draft_ready", "rejected", "approved")
            else created + timedelta(minutes=rng.lognormvariate(3.3, 1.2))
        )
        owner = rng.choice(owners)
        yield {
            "mention_id": mid, "status": status, "language": lang, "severity": "normal",
            "category": rng.choice(["delivery", "quality", "staff", "billing"]), "flags": [],
            "token": uuid.uuid4().hex, "created_at": created, "updated_at": created,
            "first_response_due": created + timedelta(hours=1), "first_response_at": answered,
            "publisher": "manual", "owner_id": owner[0], "owner_name": owner[1], "source": source,
            "root_cause": rng.choice(CAUSES) if status == "closed" else None,
            "justified": rng.random() < 0.8 if status == "closed" else None,
        }  # fmt: skip


def _related(rng: random.Random, made: list[Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    for cid, created, status, answered in made:
        at = _when(created)
        yield Draft, {"complaint_id": cid, "text": "Dear customer, thank you and sorry. " * 4,
                      "status": "proposed", "author": "reclaim", "created_at": at, "purpose": "reply"}  # fmt: skip
        yield Event, {"complaint_id": cid, "at": at, "kind": "complaint_opened", "actor": "reclaim", "data": {}}
        if answered is not None:
            yield Event, {"complaint_id": cid, "at": _when(answered), "kind": "published", "actor": "tg:111",
                          "data": {"name": "Anna"}}  # fmt: skip
        if status == "closed":
            closed = at + timedelta(hours=rng.uniform(2, 96))
            yield Event, {"complaint_id": cid, "at": closed - timedelta(minutes=2), "kind": "rated",
                          "actor": "customer", "data": {"rating": rng.choice([3, 4, 5, 5, 5])}}  # fmt: skip
            yield Event, {"complaint_id": cid, "at": closed, "kind": "closed", "actor": "reclaim", "data": {}}
            yield Promise, {"complaint_id": cid, "kind": "answer", "due": at + timedelta(hours=4),
                            "made_at": at + timedelta(hours=1), "kept_at": at + timedelta(hours=3)}  # fmt: skip
        if cid % 40 == 0:
            yield Outbox, {"key": f"alert:{cid}:deadline_missed", "kind": "alert", "complaint_id": cid,
                           "payload": {"reason": "deadline_missed"}, "status": "done", "attempts": 1,
                           "next_attempt_at": at, "created_at": at, "updated_at": at}  # fmt: skip


def _insert_mixed(engine: Any, rows: Iterator[tuple[Any, dict[str, Any]]]) -> None:
    """Rows of several tables, inserted in batches per table."""
    buffers: dict[Any, list[dict[str, Any]]] = {Draft: [], Event: [], Promise: [], Outbox: []}
    with engine.begin() as conn:
        for table, row in rows:
            buffers[table].append(row)
            if len(buffers[table]) >= CHUNK:
                conn.execute(insert(table), buffers[table])
                buffers[table] = []
        for table, rest in buffers.items():
            if rest:
                conn.execute(insert(table), rest)


def fill(app: App, mentions: int, complaints: int, end: datetime, seed: int = 7) -> None:
    """Six months up to ``end``: every 5th mention a complaint (to ``complaints``), the rest praise
    and other talk; each complaint with a draft, 2 to 5 events, some promises and alerts."""
    rng = random.Random(seed)
    engine = app.engine
    t0 = time.perf_counter()
    with engine.begin() as conn:
        for batch in chunks(_mention_rows(rng, end - timedelta(days=182), end, mentions, complaints)):
            conn.execute(insert(Mention), batch)
    t1 = time.perf_counter()
    with engine.connect() as conn:
        query = "SELECT id, fetched_at, language, source FROM mentions WHERE kind = 'complaint' ORDER BY id"
        ids = list(conn.execute(text(query)))
    with engine.begin() as conn:
        for batch in chunks(_complaint_rows(rng, ids)):
            conn.execute(insert(Complaint), batch)
    with engine.connect() as conn:
        made = list(conn.execute(text("SELECT id, created_at, status, first_response_at FROM complaints ORDER BY id")))
    t2 = time.perf_counter()
    _insert_mixed(engine, _related(rng, made))
    with engine.begin() as conn:  # fresh statistics, as autovacuum (or SQLite's optimize) would make
        conn.execute(text("ANALYZE"))
    t3 = time.perf_counter()
    print(
        f"journal: {mentions:,} mentions in {t1 - t0:.0f}s, {len(made):,} complaints in {t2 - t1:.0f}s, "
        f"their drafts, events, promises and alerts in {t3 - t2:.0f}s"
    )


async def timed(client: httpx.AsyncClient, url: str, runs: int, check: Callable[[str], bool]) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        r = await client.get(url)
        out.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200 and check(r.text), (url, r.status_code, r.text[:300])
    return out


async def measure(app: App, runs: int, month: str) -> list[tuple[str, list[float], float]]:
    from reclaim.web import Web

    web = Web(app, secret="bench-secret")
    transport = httpx.ASGITransport(app=web.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        page = await client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        r = await client.post("/login", data={"csrf": token.group(1), "name": "maria", "password": PASSWORD})
        assert r.status_code == 303, r.text[:300]
        with app.sessions() as s:
            top = s.execute(text("SELECT max(id) FROM complaints")).scalar_one()
        rng = random.Random(3)
        results: list[tuple[str, list[float], float]] = []
        login = await timed(client, "/login", runs, lambda body: "Log in" in body)
        results.append(("login page (baseline)", login, 0.2))
        results.append(("inbox, all open", await timed(client, "/", runs, lambda b: "Inbox" in b), 0.2))
        url = "/?source=forum-dk&language=da&owner=Anna"
        results.append(("inbox, filtered", await timed(client, url, runs, lambda b: "Inbox" in b), 0.2))
        results.append(
            ("inbox, overdue, page 3", await timed(client, "/?overdue=1&page=3", runs, lambda b: "Inbox" in b), 0.2)
        )
        pages = []
        for _ in range(runs):
            pages += await timed(client, f"/complaints/{rng.randint(1, top)}", 1, lambda b: "Timeline" in b)
        results.append(("complaint page", pages, 0.2))
        results.append(("monthly review", await timed(client, f"/report?month={month}", max(runs // 5, 2),
                                                      lambda b: "complaints review" in b), 5.0))  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--complaints", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema is made and dropped); default SQLite")
    parser.add_argument("--keep", metavar="PATH", help="SQLite: write the journal here and keep it")
    args = parser.parse_args()
    end = datetime(2026, 11, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        url, schema = f"sqlite:///{args.keep or Path(tmp) / 'journal.db'}", None
        if args.database_url:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            with create_engine(args.database_url).begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in args.database_url else "?"
            url = f"{args.database_url}{sep}options=-csearch_path%3D{schema}"
        os.environ.pop("RECLAIM_WEB_SECRET", None)
        app = App(Settings.model_validate({"brand": {"name": "Nordlys"}, "database": {"url": url},
                                           "timezone": "Europe/Copenhagen"}))  # fmt: skip
        try:
            fill(app, args.mentions, args.complaints, end)
            app.accounts.add("maria", PASSWORD, "manager")
            results = asyncio.run(measure(app, args.runs, "2026-10"))
        finally:
            app.close()
            if schema and args.database_url:
                with create_engine(args.database_url).begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    base = statistics.median(results[0][1])
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{backend}, {args.mentions:,} mentions, {args.complaints:,} complaints; {args.runs} runs each")
    print(f"{'page':<26}{'p50 ms':>9}{'p95 ms':>9}{'× baseline':>12}{'target':>9}  ok")
    for name, times, target in results:
        p50 = statistics.median(times)
        p95 = sorted(times)[min(math.ceil(len(times) * 0.95), len(times)) - 1]
        ok = "yes" if p95 <= target * 1000 else "NO"
        print(f"{name:<26}{p50:>9.1f}{p95:>9.1f}{p50 / base:>12.1f}{target * 1000:>9.0f}  {ok}")


if __name__ == "__main__":
    main()
