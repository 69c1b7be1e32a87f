"""From the poll that saw a complaint to its card in the staff chat, and from a customer's
private message to its relay in the staff thread; whole process.

`reclaim run` runs in its own process against the local Bot API server and a local feed server
(both in this process). Each round adds a new complaint to every feed; the latency of one card
is from the moment the feed server finished sending the feed that holds it to the moment the
card reached the Bot API server. Then customers write to the bot (each message opens or
continues a private complaint); a relay's latency is from the moment the message reached the
Bot API server to the moment its relay did. The baseline, measured in the same run: one
sendMessage from this process to the same server (the least any message can take).

    .venv/bin/python bench/latency.py [--feeds 20] [--rounds 3] [--customers 20] [--messages 3]

Targets (issue 14): a new complaint's card within 1 s (p95) of the poll that saw it; a
customer's private message relayed to the staff thread within 1 s (p95).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.sites import Page, SiteServer  # noqa: E402
from sandbox.telegram import TOKEN, BotApiServer  # noqa: E402

STAFF, ANNA = -1001000000001, 111


def feed(n: int, rounds: int) -> bytes:
    items = "".join(
        f"<item><guid>f{n}-r{r}</guid><title>Nordlys order {n}-{r}</title><link>https://forum.example/{n}/{r}</link>"
        f"<description>Nordlys lost my parcel {n}-{r}, nobody answers and I am very disappointed.</description></item>"
        for r in range(rounds)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>f{n}</title>{items}</channel></rss>'.encode()


def config(tmp: Path, site: SiteServer, tg: BotApiServer, feeds: int) -> Path:
    data = {
        "brand": {"name": "Nordlys"},
        "database": {"url": f"sqlite:///{tmp / 'reclaim.db'}"},
        "web": {"enabled": False},
        "telegram": {"bot_username": "nordlys_care_bot", "token": "${TELEGRAM_BOT_TOKEN}", "base_url": tg.base_url,
                     "staff_chat_id": STAFF, "staff_user_ids": [ANNA], "poll_timeout": "1s",
                     "limits": {"overall": {"count": 1000, "per": "1s"}, "per_group": {"count": 1000, "per": "1s"}}},
        "polling": {"jitter": "0s", "workers": 0},
        "sources": [{"name": f"f{n}", "kind": "rss", "url": site.url(f"/f{n}.xml"), "every": "10s"}
                    for n in range(feeds)],
    }  # fmt: skip
    path = tmp / "config.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def card_times(tg: BotApiServer) -> dict[str, float]:
    """When each complaint's card reached the server, by the marker in its text (n-r)."""
    out = {}
    with tg.cond:
        for (chat, mid), message in tg.state.messages.items():
            text = message.get("text", "")
            if chat == STAFF and "Nordlys lost my parcel" in text:
                marker = text.split("Nordlys lost my parcel ", 1)[1].split(",", 1)[0]
                out[marker] = tg.state.stored_at[(chat, mid)]
    return out


def relays(tg: BotApiServer, customers: int, messages: int) -> list[float]:
    """Each customer opens a private complaint, then writes ``messages`` more; the seconds from
    each of those reaching the server to its relay reaching the staff chat."""
    people = [5000 + i for i in range(customers)]
    for user in people:
        tg.add_user(user, f"Customer {user}")
        tg.send_text(user, user, f"Nordlys never delivered my order, customer {user}. Very disappointed.")
    tg.wait_for(lambda: sum("Nordlys never delivered" in m["text"] for m in tg.messages(STAFF)) >= customers, 60)
    sent: dict[str, float] = {}
    for k in range(messages):
        for user in people:
            marker = f"Q{user}K{k}"
            sent[marker] = time.monotonic()
            tg.send_text(user, user, f"my order number is {marker}")
        tg.wait_for(functools.partial(_all_relayed, tg, [f"Q{u}K{k}" for u in people]), 60)
    return [_relayed(tg, marker) - at for marker, at in sent.items()]  # type: ignore[operator]


def _all_relayed(tg: BotApiServer, markers: list[str]) -> bool:
    return all(_relayed(tg, m) is not None for m in markers)


def _relayed(tg: BotApiServer, marker: str) -> float | None:
    with tg.cond:
        for (chat, mid), message in tg.state.messages.items():
            if chat == STAFF and marker in message.get("text", ""):
                return tg.state.stored_at[(chat, mid)]
    return None


def _cards_for(tg: BotApiServer, markers: list[str]) -> dict[str, float] | None:
    cards = card_times(tg)
    return cards if all(k in cards for k in markers) else None


def baseline(tg: BotApiServer, n: int = 50) -> float:
    """The median time of one bare sendMessage to the same server, in seconds."""
    took = []
    with httpx.Client(base_url=f"{tg.base_url}{TOKEN}/") as client:
        for i in range(n):
            start = time.perf_counter()
            client.post("sendMessage", json={"chat_id": STAFF, "text": f"ping {i}"}).raise_for_status()
            took.append(time.perf_counter() - start)
    return statistics.median(took)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--customers", type=int, default=20)
    ap.add_argument("--messages", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, BotApiServer() as tg, SiteServer() as site:
        tg.add_group(STAFF, "care team")
        tg.add_user(ANNA, "Anna")
        for n in range(args.feeds):
            site.add(f"/f{n}.xml", Page(feed(n, 0)))
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "reclaim", "--config", str(config(Path(tmp), site, tg, args.feeds)), "run"]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        latencies: list[float] = []
        try:
            tg.wait_for(lambda: len(site.served_at) == args.feeds, timeout=60)  # the first polls
            for r in range(args.rounds):
                for n in range(args.feeds):
                    site.add(f"/f{n}.xml", Page(feed(n, r + 1)))
                markers = [f"{n}-{r}" for n in range(args.feeds)]
                cards = tg.wait_for(functools.partial(_cards_for, tg, markers), 60)
                for n in range(args.feeds):
                    latencies.append(cards[f"{n}-{r}"] - site.served_at[f"/f{n}.xml"])
            relayed = sorted(relays(tg, args.customers, args.messages))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        floor = baseline(tg)
    latencies.sort()
    p50, p95 = statistics.median(latencies), latencies[max(int(len(latencies) * 0.95) - 1, 0)]
    print(f"{len(latencies)} new complaints, {args.rounds} rounds of {args.feeds} feeds, `reclaim run` whole process")
    print(f"baseline: one bare sendMessage to the same server {floor * 1000:.1f} ms (median)")
    print(f"feed served → card in the staff chat: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms ({p95 / floor:.0f}x the bare send)")  # fmt: skip
    r50, r95 = statistics.median(relayed), relayed[max(int(len(relayed) * 0.95) - 1, 0)]
    print(f"customer's private message → relay in the staff thread ({len(relayed)} messages): "
          f"p50 {r50 * 1000:.0f} ms, p95 {r95 * 1000:.0f} ms, max {relayed[-1] * 1000:.0f} ms")  # fmt: skip
    print("targets (p95 under 1 s, both): " + ("met" if p95 < 1.0 and r95 < 1.0 else "NOT met"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
