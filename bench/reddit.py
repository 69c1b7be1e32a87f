"""Reddit requests the watcher issues, against the local Reddit API server with the real praw.

1. Requests per poll and per minute for N subreddits (new submissions and new comments), for
   Reclaim's watcher and for a baseline measured in the same run: praw's per-subreddit
   listings (``reddit.subreddit(name).new()`` and ``.comments()``), as a watcher written the
   obvious way would call them. Each subreddit gets fresh posts before every poll.
2. The request budget under pressure: the watcher polls a big source back to back with its
   budget scaled down to ``--budget`` requests per ``--window`` seconds (the same code as 90 per
   60 s), and the server's log shows the most requests in any window of that length.

    .venv/bin/python bench/reddit.py [--subreddits 1 10 50 200] [--every 2m] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import praw  # noqa: E402

from core.durations import parse_duration  # noqa: E402
from reclaim.app import App  # noqa: E402
from reclaim.poller import Poller  # noqa: E402
from reclaim.settings import Settings  # noqa: E402
from sandbox.reddit import RedditServer  # noqa: E402


def app_for(server: RedditServer, db: Path, subs: list[str], budget: int) -> App:
    settings = Settings.model_validate(
        {
            "brand": {"name": "Nordlys"},
            "database": {"url": f"sqlite:///{db}"},
            "polling": {"workers": 0, "retries": 0},
            "reddit": {
                "oauth_url": server.url,
                "reddit_url": server.url,
                "user_agent": "python:reclaim-bench:1 (by /u/bench)",
                "requests_per_minute": budget,
            },
            "sources": [{"name": "reddit", "kind": "reddit", "subreddits": subs, "match": "all"}],
        }
    )
    return App(settings)


def fill(server: RedditServer, subs: list[str], round_: int) -> None:
    for sub in subs:
        post = server.add_submission(sub, f"Nordlys order {round_} in {sub}", "It never arrived.", author="kim")
        server.add_comment(post, "Same here, Nordlys never answered me either.", author="lee")


def api_calls(server: RedditServer) -> int:
    return sum(1 for _, _, path in server.requests if path != "/api/v1/access_token")


def ours(server: RedditServer, subs: list[str], polls: int, tmp: Path) -> float:
    """Requests per poll of Reclaim's watcher (after the first poll, which sets the cursors)."""
    app = app_for(server, tmp / f"ours-{len(subs)}.db", subs, budget=1000)

    async def go() -> float:
        poller = Poller(app)
        try:
            fill(server, subs, 0)
            await poller.poll(app.settings.sources)
            before = api_calls(server)
            for n in range(polls):
                fill(server, subs, n + 1)
                outcome = (await poller.poll(app.settings.sources))[0]
                assert outcome.ok and outcome.added == 2 * len(subs), outcome
            return (api_calls(server) - before) / polls
        finally:
            await poller.aclose()
            app.close()

    return asyncio.run(go())


def baseline(server: RedditServer, subs: list[str], polls: int) -> float:
    """Requests per poll of praw's per-subreddit listings."""
    env = server.env()
    reddit = praw.Reddit(
        client_id=env["REDDIT_CLIENT_ID"],
        client_secret=env["REDDIT_CLIENT_SECRET"],
        username=env["REDDIT_USERNAME"],
        password=env["REDDIT_PASSWORD"],
        user_agent="python:reclaim-bench-baseline:1 (by /u/bench)",
        oauth_url=server.url,
        reddit_url=server.url,
        check_for_updates=False,
    )
    before = api_calls(server)
    for n in range(polls):
        fill(server, subs, 100 + n)
        for sub in subs:
            list(reddit.subreddit(sub).new(limit=100))
            list(reddit.subreddit(sub).comments(limit=100))
    return (api_calls(server) - before) / polls


def under_pressure(
    server: RedditServer, subs: list[str], budget: int, window: float, seconds: float, tmp: Path
) -> None:
    app = app_for(server, tmp / "pressure.db", subs, budget=budget)
    assert app.reddit is not None
    app.reddit.session.window = window  # the same limiter, on a shorter window
    first = len(server.requests)

    async def go() -> int:
        poller = Poller(app)
        polls, end = 0, time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                fill(server, subs, 1000 + polls)
                await poller.poll(app.settings.sources)
                polls += 1
            return polls
        finally:
            await poller.aclose()
            app.close()

    polls = asyncio.run(go())
    times = sorted(t for t, _, _ in server.requests[first:])
    peak = max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)
    rate = len(times) / max(times[-1] - times[0], 1e-9) * window if len(times) > 1 else 0.0
    print(
        f"\nBudget {budget} per {window:g}s ({budget * 60 / window:.0f}/min): {polls} polls back to back, "
        f"{len(times)} requests in {seconds:g}s; most in any {window:g}s window: {peak} "
        f"({'within' if peak <= budget else 'OVER'} budget); mean {rate:.1f} per window"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subreddits", type=int, nargs="+", default=[1, 10, 50, 200])
    parser.add_argument("--polls", type=int, default=3)
    parser.add_argument("--every", default="2m", help="poll interval used to turn requests/poll into requests/min")
    parser.add_argument("--limit", type=int, default=90, help="the configured requests_per_minute")
    parser.add_argument("--budget", type=int, default=10)
    parser.add_argument("--window", type=float, default=6.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    per_minute = 60 / parse_duration(args.every).total_seconds()
    os.environ.update(RedditServer(cassettes=Path("/nonexistent")).env())
    unlimited = (10**9, 600.0)  # the baseline alone would use up Reddit's 10-minute window
    with tempfile.TemporaryDirectory() as tmp, RedditServer(cassettes=Path("/nonexistent"), window=unlimited) as server:
        server.pace = False  # praw's own header pacing off: count requests, not sleeps
        print(f"Reddit requests per poll (polls every {args.every}; configured budget {args.limit}/min)")
        heads = ("subreddits", 10), ("reclaim/poll", 13), ("baseline/poll", 14), ("reclaim/min", 12)
        print(" ".join(f"{h:>{w}}" for h, w in (*heads, ("baseline/min", 13), ("ratio", 7))))
        for n in args.subreddits:
            subs = [f"bench{n}x{i}" for i in range(n)]
            mine, base = ours(server, subs, args.polls, Path(tmp)), baseline(server, subs, args.polls)
            ok = "" if mine * per_minute <= args.limit else "  OVER BUDGET"
            over = "" if base * per_minute <= args.limit else " (over)"
            print(
                f"{n:>10} {mine:>13.1f} {base:>14.1f} {mine * per_minute:>12.1f} "
                f"{base * per_minute:>13.1f}{over} {base / mine:>6.1f}x{ok}"
            )
    with tempfile.TemporaryDirectory() as tmp, RedditServer(cassettes=Path("/nonexistent")) as server:
        subs = [f"pressure{i}" for i in range(max(args.subreddits))]
        under_pressure(server, subs, args.budget, args.window, args.seconds, Path(tmp))


if __name__ == "__main__":
    main()
