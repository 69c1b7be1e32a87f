"""Answering on Reddit, end to end: the real praw against the local Reddit API server, the real
python-telegram-bot against the local Bot API server. An approved reply is posted once under the
post, its id and permalink kept; a locked thread and "doing that too much" end as Reddit says;
and `reclaim run` killed between posting and recording posts nothing twice after restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, select

from reclaim.scheduler import Runner
from sandbox.reddit import RedditServer
from sandbox.telegram import TOKEN, BotApiServer
from storage.tables import Complaint, Event, Outbox
from tests.conftest import ROOT
from tests.e2e.test_conversation import data_of, staff_press, staff_reply_to_prompt
from tests.e2e.test_staff_inbox import ANNA, STAFF, card_of, people, telegram_settings, until
from tests.integration.test_reddit import reddit_settings

COMPLAINT = ("Nordlys lost my order", "Three weeks and no parcel, and nobody answers my emails. Awful service.")


@pytest.fixture
async def running(
    db_url: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Any, BotApiServer, RedditServer]]:
    with BotApiServer() as tg, RedditServer() as rd:
        people(tg)
        for key, value in rd.env().items():
            monkeypatch.setenv(key, value)
        app = make_app(
            db_url,
            [{"name": "reddit", "kind": "reddit", "subreddits": ["nordlys"], "every": "10s"}],
            telegram=telegram_settings(tg),
            reddit=reddit_settings(rd),
            polling={"retries": 0, "workers": 0, "jitter": "0s"},
        )
        stop = asyncio.Event()
        task = asyncio.create_task(Runner(app).run(until=stop))
        try:
            yield app, tg, rd
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


async def journal(app: Any, cid: int, check: Any, timeout: float = 15.0) -> Complaint:
    for _ in range(int(timeout / 0.05)):
        with app.sessions() as s:
            c = s.get(Complaint, cid)
            if c is not None and check(c):
                s.expunge(c)
                return c
        await asyncio.sleep(0.05)
    raise TimeoutError(f"complaint {cid} never got there")


async def test_an_approved_reply_is_posted_once_under_the_post(running: Any) -> None:
    app, tg, rd = running
    post = rd.add_submission("nordlys", *COMPLAINT, author="kim")
    card = await until(tg, lambda: card_of(tg, 1), timeout=20)
    assert "Three weeks and no parcel" in card["text"] and "Score" in card["text"]
    await staff_press(tg, 1, "ap")
    c = await journal(app, 1, lambda c: c.status == "published")
    replies = rd.replies_to(post)
    assert len(replies) == 1 and replies[0]["author"] == rd.username
    with app.sessions() as s:
        draft = s.scalar(select(Event.data).where(Event.kind == "published"))
    assert c.reply_id == replies[0]["name"] and c.reply_url and replies[0]["id"] in c.reply_url
    assert draft is not None and draft["publisher"] == "reddit"
    await until(tg, lambda: "our public reply" in (card_of(tg, 1) or {}).get("text", ""))
    await asyncio.sleep(11)  # the next poll sees our reply in the subreddit's comments
    with app.sessions() as s:
        assert len(list(s.scalars(select(Complaint)))) == 1  # and does not take it for a complaint


async def test_our_reply_is_edited_in_place_and_withdrawn_by_its_owner(running: Any) -> None:
    app, tg, rd = running
    post = rd.add_submission("nordlys", *COMPLAINT, author="kim")
    await staff_press(tg, 1, "ap")
    await journal(app, 1, lambda c: c.status == "published")
    card = await until(tg, lambda: (m := card_of(tg, 1)) and "c:1:re" in data_of(m) and m)
    assert "c:1:wd" in data_of(card)
    await staff_press(tg, 1, "re")
    await staff_reply_to_prompt(
        tg, "published reply to complaint #1", "Thank you, Kim, and sorry: see our private chat."
    )
    await until(tg, lambda: rd.edits)
    (ours,) = rd.replies_to(post)
    assert ours["body"] == "Thank you, Kim, and sorry: see our private chat." and rd.edits == [
        (ours["name"], ours["body"])
    ]
    await until(tg, lambda: "see our private chat" in (card_of(tg, 1) or {}).get("text", ""))
    await staff_press(tg, 1, "wd")  # Anna approved it, so she owns it: asked to confirm
    await until(tg, lambda: "c:1:wc" in data_of(card_of(tg, 1) or {}))
    await staff_press(tg, 1, "wc")
    c = await journal(app, 1, lambda c: c.status == "draft_ready")
    assert c.reply_id is None and rd.things[ours["name"]]["data"]["deleted"] is True
    assert len(rd.posted) == 1  # taken down, not posted again


async def test_a_locked_thread_and_a_rate_limit_end_as_reddit_says(running: Any) -> None:
    app, tg, rd = running
    locked = rd.add_submission("nordlys", *COMPLAINT, author="kim")
    rd.lock_thread(locked)
    busy = rd.add_submission("nordlys", "Nordlys support is useless", "Rude staff, broken coat, no refund.", "lee")
    await until(tg, lambda: card_of(tg, 1) and card_of(tg, 2), timeout=20)
    first = 1 if rd.things[locked]["data"]["created_utc"] < rd.things[busy]["data"]["created_utc"] else 2
    await staff_press(tg, first, "ap")  # the locked one: refused
    await journal(app, first, lambda c: c.status == "awaiting_post")
    card = await until(tg, lambda: (m := card_of(tg, first)) and "locked" in m["text"] and m)
    assert f"c:{first}:ps" in data_of(card)  # post it some other way, then press Posted
    assert rd.replies_to(locked) == []

    second = 3 - first
    rd.comment_refusals.append(
        ("RATELIMIT", "Looks like you've been doing that a lot. Take a break for 2 seconds before trying again.")
    )
    await staff_press(tg, second, "ap")  # refused once with "take a break", then posted
    await journal(app, second, lambda c: c.status == "published", timeout=20)
    assert len(rd.replies_to(busy)) == 1
    with app.sessions() as s:
        row = s.scalars(select(Outbox).where(Outbox.key == f"publish:{second}")).one()
    assert row.attempts == 2 and row.status == "done"  # refused once, waited as told, then posted


def test_killed_between_posting_and_recording_posts_nothing_twice(db_url: str, tmp_path: Path) -> None:
    with BotApiServer() as tg, RedditServer() as rd:
        people(tg)
        config = run_config(tmp_path, db_url, tg, rd)
        env = {**os.environ, **rd.env(), "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
        post = rd.add_submission("nordlys", *COMPLAINT, author="kim")

        def start() -> subprocess.Popen[bytes]:
            cmd = [sys.executable, "-m", "reclaim", "--config", str(config), "run"]
            return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        proc = start()
        killed: list[int] = []

        def kill_now(comment: dict[str, Any]) -> None:  # Reddit has the comment; the answer never arrives
            if not killed:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                killed.append(proc.pid)

        rd.on_comment = kill_now
        try:
            card = tg.wait_for(lambda: card_of(tg, 1), timeout=30)
            tg.press(STAFF, card["message_id"], ANNA, data="c:1:ap")
            tg.wait_for(lambda: killed, timeout=30)
            assert len(rd.replies_to(post)) == 1
            proc = start()
            deadline = time.monotonic() + 40
            status = None
            while time.monotonic() < deadline and status != "published":
                time.sleep(0.2)
                status = _status(db_url)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        assert status == "published"
        replies = rd.replies_to(post)
        assert len(replies) == 1  # found on the retry, not posted again
        assert len(rd.posted) == 1
        published = _query(db_url, select(Event.data).where(Event.kind == "published"))
        assert published["found_on_retry"] is True and published["id"] == replies[0]["name"]


def run_config(tmp_path: Path, db_url: str, tg: BotApiServer, rd: RedditServer, **extra: Any) -> Path:
    """A config.yaml for `reclaim run` as its own process: the local Bot API (token from the
    environment) and the local Reddit, one reddit source; ``extra`` adds top-level sections."""
    settings = telegram_settings(tg)
    settings["token"] = "${TELEGRAM_BOT_TOKEN}"
    data = {
        "brand": {"name": "Nordlys"},
        "database": {"url": db_url},
        "web": {"enabled": False},
        "telegram": settings,
        "reddit": reddit_settings(rd),
        "polling": {"jitter": "0s", "workers": 0},
        "sources": [{"name": "reddit", "kind": "reddit", "subreddits": ["nordlys"], "every": "10s"}],
        **extra,
    }
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


def _query(db_url: str, query: Any) -> Any:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(query).scalar()
    finally:
        engine.dispose()


def _status(db_url: str) -> str | None:
    return _query(db_url, select(Complaint.status).where(Complaint.id == 1))  # type: ignore[no-any-return]
