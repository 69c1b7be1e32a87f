"""Replies published by policy, end to end: `reclaim run` with the real praw against the local
Reddit and the real python-telegram-bot against the local Bot API. A complaint nobody touches is
answered on Reddit after `after`, exactly once, though `reclaim run` is killed with SIGKILL as the
reply reaches Reddit; a legal threat and a complaint someone took are not answered; outside
working hours the shorter delay applies, and the card says the policy published it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, inspect, select

from core.respond import DAYS
from reclaim.scheduler import Runner
from sandbox.reddit import RedditServer
from sandbox.telegram import TOKEN, BotApiServer
from storage.tables import Complaint, Event, Mention
from tests.conftest import ROOT
from tests.e2e.test_reddit import journal, run_config
from tests.e2e.test_staff_inbox import ANNA, STAFF, card_of, people, telegram_settings, until
from tests.integration.test_reddit import reddit_settings

QUIET = ("Nordlys app", "The Nordlys app is annoying.")  # low severity
LEGAL = ("Nordlys, see you in court", "You charged me twice. My lawyer will sue Nordlys if this is not fixed.")
MANAGER = ("Nordlys order", "I want to speak to a manager about my Nordlys order. It is a day late.")
TAKEN = ("Nordlys parcel a bit late", "My Nordlys parcel is a day late.")
AFTER = 8.0  # seconds without a staff action, in working hours


def _rows(db_url: str) -> dict[str, dict[str, Any]]:
    """Each complaint by the title of its post: status, owner, and how often the policy published it."""
    engine = create_engine(db_url)
    try:
        if not inspect(engine).has_table("events"):  # `reclaim run` has not made the journal yet
            return {}
        with engine.connect() as conn:
            rows = conn.execute(select(Complaint.id, Complaint.status, Complaint.owner_id, Complaint.created_at,
                                       Mention.title).join(Mention, Mention.id == Complaint.mention_id)).all()  # fmt: skip
            policy = conn.execute(select(Event.complaint_id).where(Event.kind == "approved_by_policy")).scalars().all()
            published = conn.execute(select(Event.complaint_id, Event.data).where(Event.kind == "published")).all()
    finally:
        engine.dispose()
    out: dict[str, dict[str, Any]] = {}
    for cid, status, owner, created, title in rows:
        out[str(title)] = {"id": cid, "status": status, "owner": owner, "created": created,
                      "policy": policy.count(cid), "published": [d for c, d in published if c == cid]}  # fmt: skip
    return out


def test_untouched_complaint_answered_once_by_policy_through_a_sigkill(db_url: str, tmp_path: Path) -> None:
    with BotApiServer() as tg, RedditServer() as rd:
        people(tg)
        always = {"mon-sun": "00:00-24:00"}
        config = run_config(tmp_path, db_url, tg, rd, respond={"working_hours": always,
                         "auto_publish": {"after": f"{AFTER:g}s", "outside_hours": "1s",
                                          "severities": ["low", "normal", "high"]}})  # fmt: skip
        env = {**os.environ, **rd.env(), "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
        posts = {title: rd.add_submission("nordlys", title, body, author=f"kim{n}")
                 for n, (title, body) in enumerate((QUIET, LEGAL, MANAGER, TAKEN))}  # fmt: skip

        def start() -> subprocess.Popen[bytes]:
            cmd = [sys.executable, "-m", "reclaim", "--config", str(config), "run"]
            with (tmp_path / "run.log").open("ab") as log:
                return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

        proc, killed, answered_at = start(), list[int](), list[datetime]()

        def kill_now(comment: dict[str, Any]) -> None:  # Reddit has the reply; `reclaim run` never hears back
            answered_at.append(datetime.now(UTC))
            if not killed:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                killed.append(proc.pid)

        rd.on_comment = kill_now
        try:
            taken = tg.wait_for(lambda: (r := _rows(db_url)).get(TAKEN[0]) and r[TAKEN[0]]["id"], timeout=30)
            card = tg.wait_for(lambda: card_of(tg, taken), timeout=10)
            tg.press(STAFF, card["message_id"], ANNA, data=f"c:{taken}:tk")
            tg.wait_for(lambda: _rows(db_url)[TAKEN[0]]["owner"] == ANNA, timeout=AFTER / 2)
            tg.wait_for(lambda: killed, timeout=40)
            proc = start()
            tg.wait_for(lambda: _rows(db_url)[QUIET[0]]["status"] == "published", timeout=40)
            time.sleep(AFTER + 4)  # long enough for any second reply, and for the others' delays
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        rows = _rows(db_url)
        quiet, legal, took = rows[QUIET[0]], rows[LEGAL[0]], rows[TAKEN[0]]
        assert len(rd.replies_to(posts[QUIET[0]])) == 1 and len(rd.posted) == 1  # once, through the kill
        assert quiet["policy"] == 1 and quiet["published"][0]["found_on_retry"] is True
        assert (answered_at[0] - quiet["created"]).total_seconds() >= AFTER  # not before `after`
        assert rd.replies_to(posts[LEGAL[0]]) == [] and legal["status"] == "draft_ready" and legal["policy"] == 0
        assert rd.replies_to(posts[TAKEN[0]]) == [] and took["status"] == "draft_ready" and took["policy"] == 0
        manager = rows[MANAGER[0]]  # high severity is allowed here: only the flag keeps it back
        assert rd.replies_to(posts[MANAGER[0]]) == [] and manager["status"] == "draft_ready" and manager["policy"] == 0


async def test_outside_working_hours_the_shorter_delay_applies(db_url: str, make_app: Any, monkeypatch: Any) -> None:
    zone = ZoneInfo("Europe/Copenhagen")
    another_day = DAYS[(datetime.now(zone).weekday() + 3) % 7]  # today is outside working hours
    with BotApiServer() as tg, RedditServer() as rd:
        people(tg)
        for key, value in rd.env().items():
            monkeypatch.setenv(key, value)
        respond = {"timezone": "Europe/Copenhagen", "working_hours": {another_day: "00:00-24:00"},
                   "auto_publish": {"after": "10m", "outside_hours": "2s"}}  # fmt: skip
        app = make_app(
            db_url,
            [{"name": "reddit", "kind": "reddit", "subreddits": ["nordlys"], "every": "10s"}],
            telegram=telegram_settings(tg),
            reddit=reddit_settings(rd),
            polling={"retries": 0, "workers": 0, "jitter": "0s"},
            respond=respond,
        )
        post = rd.add_submission("nordlys", *QUIET, author="kim")
        stop = asyncio.Event()
        task = asyncio.create_task(Runner(app).run(until=stop))
        try:
            c = await journal(app, 1, lambda c: c.status == "published", timeout=30)
            card = await until(tg, lambda: (m := card_of(tg, 1)) and "Published by policy" in m["text"] and m)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
    assert len(rd.replies_to(post)) == 1 and c.owner_id is None
    assert "nobody on the team acted for 2s" in card["text"]
    with app.sessions() as s:
        event = s.scalars(select(Event).where(Event.kind == "approved_by_policy")).one()
    assert event.actor == "policy" and event.data["in_hours"] is False and event.data["after"] == "2s"
