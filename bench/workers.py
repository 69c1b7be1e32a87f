"""Load run (issue 15): many sources on a local server, polled by one `reclaim run` worker and
then by three against one PostgreSQL journal, in the same run.

    .venv/bin/python bench/workers.py [--sources 10000] [--every 60] [--seconds 150] [--workers 3]
                                      [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

The feed server (its own process) gives every source new items each interval (2 per poll), and
watches its requests from outside: two requests for one source at once (a source polled by two
workers at the same time), and each source's time between polls, whose excess over the
interval is the poll lag. Each phase starts on a fresh schema; the first interval is left out
(every source starts at once). Printed per phase: polls/s, new items/s, poll lag p50/p95 and
the overlaps; then the ingest rate of N workers over one (target >= 2.5 with three).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# -- the feed server ------------------------------------------------------------------------------
class Feeds:
    """ASGI app: /f/<n>.xml with new items each ``every`` seconds; /log gives what it saw."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.starts: dict[str, list[float]] = {}
        self.open: dict[str, int] = {}
        self.overlaps = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/log":
            body = json.dumps({"starts": self.starts, "overlaps": self.overlaps}).encode()
            await _respond(send, 200, body, "application/json")
            return
        now = time.time()
        self.starts.setdefault(path, []).append(now)
        self.open[path] = self.open.get(path, 0) + 1
        if self.open[path] > 1:
            self.overlaps += 1
        try:
            await asyncio.sleep(0.02)  # a real server's latency: overlaps would show
            epoch = int(now // self.every)
            etag = f'"{epoch}"'
            headers = dict(scope["headers"])
            if headers.get(b"if-none-match", b"").decode() == etag:
                await _respond(send, 304, b"", None, etag)
                return
            n = path.strip("/").removeprefix("f/").removesuffix(".xml")
            items = "".join(
                f"<item><guid>{n}-{epoch}-{i}</guid><title>Nordlys order {n}</title>"
                f"<link>https://forum.example/{n}/{epoch}/{i}</link>"
                f"<description>Nordlys lost my parcel {epoch}-{i}, very disappointed</description></item>"
                for i in range(2)
            )
            feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>f{n}</title>{items}</channel></rss>'
            await _respond(send, 200, feed.encode(), "application/rss+xml", etag)
        finally:
            self.open[path] -= 1


async def _respond(send: Any, status: int, body: bytes, ctype: str | None, etag: str | None = None) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if ctype:
        headers.append((b"content-type", ctype.encode()))
    if etag:
        headers.append((b"etag", etag.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def serve(port: int, every: float) -> None:
    import uvicorn

    uvicorn.run(Feeds(every), host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- a phase ---------------------------------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def schema(base: str) -> tuple[str, str]:
    name = f"load_{uuid.uuid4().hex[:10]}"
    with create_engine(base).begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    sep = "&" if "?" in base else "?"
    return name, f"{base}{sep}options={quote(f'-csearch_path={name}')}"


def phase(args: argparse.Namespace, workers: int, tmp: Path) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--every", str(args.every)], cwd=ROOT)
    name, url = schema(args.database_url)
    config = tmp / f"config-{workers}.yaml"
    data = {
        "brand": {"name": "Nordlys"},
        "database": {"url": url},
        "web": {"enabled": False},
        "polling": {"jitter": f"{args.jitter}s", "retries": 0, "concurrency": 32},
        "sources": [
            {"name": f"f{n}", "kind": "rss", "url": f"http://127.0.0.1:{port}/f/{n}.xml", "every": f"{args.every}s"}
            for n in range(args.sources)
        ],
    }
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    procs = []
    try:
        time.sleep(1.0)
        cmd = [sys.executable, "-m", "reclaim", "--config", str(config), "run"]
        procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=(tmp / f"w{workers}-{i}.log").open("wb"))
                 for i in range(workers)]  # fmt: skip
        started = time.time()
        time.sleep(args.seconds)
        import httpx

        log = httpx.get(f"http://127.0.0.1:{port}/log", timeout=60).json()
        with create_engine(url).connect() as conn:
            mentions = conn.execute(text("SELECT count(*) FROM mentions")).scalar() or 0
            counted = conn.execute(
                text("SELECT count(*) FROM mentions WHERE fetched_at >= :t"),
                {"t": _utc(started + args.every)},
            ).scalar() or 0  # fmt: skip
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
        server.terminate()
        server.wait()
        with create_engine(args.database_url).begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    return _summary(log, started, args, workers, int(mentions), int(counted))


def _utc(t: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC)


def _summary(
    log: dict[str, Any], started: float, args: argparse.Namespace, workers: int, total: int, counted: int
) -> dict[str, float]:
    window = args.seconds - args.every
    after = started + args.every
    polls = sum(1 for starts in log["starts"].values() for t in starts if t >= after)
    lags = []
    for starts in log["starts"].values():
        for a, b in itertools.pairwise(starts):
            if a >= after:
                lags.append(max(b - a - args.every, 0.0))
    polled = len(log["starts"])
    q = statistics.quantiles(lags, n=20) if len(lags) > 20 else [0.0] * 19
    out = {
        "workers": workers, "sources polled": polled, "polls/s": polls / window, "items/s": counted / window,
        "lag p50 s": statistics.median(lags) if lags else float("nan"), "lag p95 s": q[18],
        "overlaps": log["overlaps"], "mentions": total,
    }  # fmt: skip
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--sources", type=int, default=10_000)
    ap.add_argument("--every", type=float, default=60.0)
    ap.add_argument("--jitter", type=float, default=5.0)
    ap.add_argument("--seconds", type=float, default=150.0)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--database-url", default=os.environ.get("RECLAIM_TEST_DATABASE_URL"))
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.every)
        return 0
    if not args.database_url or not args.database_url.startswith("postgresql"):
        print("several workers need PostgreSQL: --database-url postgresql+psycopg://…", file=sys.stderr)
        return 2
    print(f"{args.sources} sources every {args.every:.0f}s, {args.seconds:.0f}s per phase, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        one = phase(args, 1, Path(tmp))
        many = phase(args, args.workers, Path(tmp))
    ratio = many["items/s"] / one["items/s"] if one["items/s"] else float("nan")
    print(f"ingest rate, {args.workers} workers over 1: {ratio:.2f}x (target >= 2.5x); "
          f"overlaps: {one['overlaps'] + many['overlaps']} (must be 0)")  # fmt: skip
    return 0 if one["overlaps"] + many["overlaps"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
