"""Fault injection: `reclaim run` as a user starts it, against hostile local servers all at once
(a trickling feed, a gzip bomb, a redirect loop, a 20 MB page, items nested 1,000 deep) and a
Bot API that refuses the token for the first 10 s. The healthy sources are polled on time, the
bot starts once Telegram accepts it, SIGTERM stops everything cleanly, and no secret appears
in anything the process printed. A taken web.listen is one line, not a traceback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.hostile import HostileServer
from sandbox.sites import Page, SiteServer
from sandbox.telegram import TOKEN, BotApiServer
from tests.conftest import ROOT
from tests.integration.test_poll import ITEMS, feed

STAFF, ANNA = -1001000000001, 111
WEB_SECRET = "web-secret-0123456789abcdef"
FEED_TOKEN = "feed-token-9876543210"
STOCK = {"item": "div.review", "title": "h3.review-title", "text": "div.review-body", "author": "span.user"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(tmp_path: Path, site: SiteServer, hostile: HostileServer, tg: BotApiServer, port: int) -> Path:
    html: dict[str, Any] = {"kind": "html", "selectors": STOCK, "every": "10s", "timeout": "4s"}
    data = {
        "brand": {"name": "Nordlys", "aliases": ["nordlys"]},
        "database": {"url": f"sqlite:///{tmp_path / 'journal.db'}"},
        "telegram": {
            "bot_username": "nordlys_care_bot",
            "staff_chat_id": STAFF,
            "staff_user_ids": [ANNA],
            "base_url": tg.base_url,
        },
        "polling": {"retries": 0, "jitter": "0s", "concurrency": 1, "workers": 1},
        "web": {"enabled": True, "listen": f"127.0.0.1:{port}"},
        "sources": [
            {"name": "healthy", "kind": "rss", "url": site.url("/feed.xml"), "every": "10s"},
            {
                "name": "private-feed",
                "kind": "rss",
                "url": site.url("/private.xml"),
                "every": "10s",
                "headers": {"Authorization": "Bearer ${FEED_TOKEN}"},
            },
            {"name": "trickle", "kind": "rss", "url": hostile.url("/trickle"), "every": "10s", "timeout": "3s"},
            {"name": "bomb", "url": hostile.url("/bomb"), **html},
            {"name": "loop", "kind": "rss", "url": hostile.url("/loop"), "every": "10s"},
            {"name": "huge", "url": hostile.url("/huge"), **html},
            {"name": "nested", "url": hostile.url("/nested"), **html},
            {"name": "slow", "kind": "rss", "url": hostile.url("/slow-headers"), "every": "10s", "timeout": "3s"},
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def start(path: Path, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "RECLAIM_WEB_SECRET": WEB_SECRET, "FEED_TOKEN": FEED_TOKEN,
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    with out.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "reclaim", "--config", str(path), "-v", "run"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip


def bot_status(config_path: Path, capsys: pytest.CaptureFixture[str]) -> str | None:
    """What `reclaim status --json` says of the Telegram bot right now."""
    from reclaim.cli import main

    capsys.readouterr()
    assert main(["--config", str(config_path), "status", "--json"]) == 0
    rows = {r["component"]: r for r in json.loads(capsys.readouterr().out)}
    return rows["telegram"]["state"] if "telegram" in rows else None


def test_reclaim_run_against_hostile_servers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEED_TOKEN", FEED_TOKEN)  # the config names it; `reclaim status` reads the config too
    with SiteServer() as site, HostileServer(trickle_for=60) as hostile, BotApiServer() as tg:
        site.add("/feed.xml", Page(feed(*ITEMS)))
        site.add("/private.xml", Page(feed(("p1", "Nordlys parcel lost", "Lost again, terrible service."))))
        tg.add_group(STAFF, "Care team")
        tg.refuse_until = time.monotonic() + 10
        out = tmp_path / "output.log"
        path = config(tmp_path, site, hostile, tg, free_port())
        proc = start(path, out)
        try:
            started = time.monotonic()
            while "watching 8 source(s)" not in out.read_text(errors="replace"):  # migrated, running
                assert proc.poll() is None and time.monotonic() - started < 30, out.read_text(errors="replace")
                time.sleep(0.2)
            assert bot_status(path, capsys) in ("starting", "waiting")  # refused: it keeps trying
            # the bot gets in once Telegram stops refusing, and the cards follow
            tg.wait_for(lambda: tg.messages(STAFF), timeout=60)
            bot_in = time.monotonic() - started
            while time.monotonic() - started < 32:
                assert proc.poll() is None, out.read_text(errors="replace")
                time.sleep(0.5)
            polls = site.requests["/feed.xml"], site.requests["/private.xml"]
            assert bot_status(path, capsys) == "running"
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        text = out.read_text(errors="replace")
    assert code == 0, text
    assert bot_in > 9, bot_in  # it really was refused at first
    # every 10 s from the start, whatever the hostile sources did: at 0, 10, 20 and 30 s
    assert min(polls) >= 3, (polls, text)
    assert "Telegram refused the bot token (TELEGRAM_BOT_TOKEN)" in text
    assert "no complete answer within 3s" in text  # the trickle and the silent server
    assert "larger than the limit" in text and "more than 5 redirects" in text
    assert "source nested: HTTP 200, 1000 item(s)" in text, text
    for secret in (TOKEN, TOKEN.split(":")[1], WEB_SECRET, FEED_TOKEN):
        assert secret not in text, secret
    assert "Traceback" not in text, text


def test_a_taken_dashboard_port_is_one_clear_line(tmp_path: Path) -> None:
    with SiteServer() as site, HostileServer() as hostile, BotApiServer() as tg, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        out = tmp_path / "output.log"
        proc = start(config(tmp_path, site, hostile, tg, port), out)
        code = proc.wait(timeout=60)
        text = out.read_text(errors="replace")
    assert code == 2, text
    assert f"web.listen: 127.0.0.1:{port} is already in use; set web.listen" in text
    assert "Traceback" not in text and TOKEN not in text
