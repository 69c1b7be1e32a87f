"""The staff inbox end to end: a local feed, the real python-telegram-bot against the local Bot API
server, `reclaim run`'s Runner, and a real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from reclaim.app import App
from reclaim.scheduler import Runner
from sandbox.sites import Page, SiteServer
from sandbox.telegram import TOKEN, BotApiServer
from storage.tables import Complaint, Event, Outbox
from tests.integration.test_poll import feed

STAFF, MANAGERS = -1001000000001, -1001000000002
ANNA, BOB, EVE = 111, 222, 999


def telegram_settings(tg: BotApiServer, **extra: Any) -> dict[str, Any]:
    return {
        "bot_username": "nordlys_care_bot",
        "token": TOKEN,
        "base_url": tg.base_url,
        "staff_chat_id": STAFF,
        "staff_user_ids": [ANNA, BOB],
        "manager_chat_id": MANAGERS,
        "poll_timeout": "1s",
        "limits": {"overall": {"count": 1000, "per": "1s"}, "per_group": {"count": 1000, "per": "1s"}},
        **extra,
    }


def people(tg: BotApiServer) -> None:
    tg.add_group(STAFF, "Nordlys care team")
    tg.add_group(MANAGERS, "Nordlys managers")
    tg.add_user(ANNA, "Anna", "anna_care")
    tg.add_user(BOB, "Bob")
    tg.add_user(EVE, "Eve <script>")


async def until(tg: BotApiServer, check: Callable[[], Any], timeout: float = 15.0) -> Any:
    return await asyncio.to_thread(tg.wait_for, check, timeout)


def card_of(tg: BotApiServer, complaint_id: int) -> dict[str, Any] | None:
    for m in tg.messages(STAFF):
        if f"#{complaint_id}" in m["text"].split("\n", 1)[0]:
            return m
    return None


def buttons(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


@pytest.fixture
async def running(db_url: str, site: SiteServer, make_app: Any) -> AsyncIterator[tuple[App, BotApiServer, SiteServer]]:
    with BotApiServer() as tg:
        people(tg)
        site.add(
            "/feed.xml",
            Page(
                feed(
                    (
                        "1",
                        "Nordlys lost my order",
                        "Three weeks and &lt;b&gt;nothing&lt;/b&gt; &amp; no answer. I will sue you.",
                    ),
                    ("2", "Nordlys is lovely", "Great quality and fast delivery, thank you!"),
                )
            ),
        )
        app = make_app(
            db_url,
            [{"name": "community", "kind": "rss", "url": site.url("/feed.xml"), "every": "1h"}],
            telegram=telegram_settings(tg),
            sla={"first_response": "4s"},
            alerts={"check_every": "1s"},
            polling={"retries": 0, "workers": 0, "jitter": "0s"},
        )
        runner = Runner(app)
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(until=stop))
        try:
            yield app, tg, site
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


async def test_complaint_card_take_edit_approve_posted_and_alerts(running: Any) -> None:
    app, tg, _site = running
    card = await until(tg, lambda: card_of(tg, 1))
    assert "Three weeks and <b>nothing</b> & no answer" in card["text"]  # user HTML shown as text
    assert "&lt;b&gt;nothing&lt;/b&gt;" in card["html"]
    assert buttons(card) == ["✅ Approve", "✏️ Edit", "🚫 Reject", "🙋 Take"]
    assert card_of(tg, 2) is None  # praise gets no card

    # someone outside the team is refused and nothing changes
    qid = tg.press(STAFF, card["message_id"], EVE, label="✅ Approve")
    answer = await until(tg, lambda: tg.answer(qid))
    assert answer["show_alert"] and "Only the social-media team" in answer["text"]
    with app.sessions() as s:
        assert s.scalar(select(Complaint.status).where(Complaint.id == 1)) == "draft_ready"

    # Take: Anna becomes the owner; Bob's Take asks before handing over
    tg.press(STAFF, card["message_id"], ANNA, label="🙋 Take")
    await until(tg, lambda: "Owner: Anna" in tg.message(STAFF, card["message_id"])["text"])
    qid = tg.press(STAFF, card["message_id"], BOB, label="🙋 Take")
    assert "Anna owns this complaint" in (await until(tg, lambda: tg.answer(qid)))["text"]
    await until(tg, lambda: "Yes, hand it over to me" in buttons(tg.message(STAFF, card["message_id"])))
    tg.press(STAFF, card["message_id"], BOB, label="Cancel")
    await until(tg, lambda: "✅ Approve" in buttons(tg.message(STAFF, card["message_id"])))

    # Edit: the bot asks, Anna replies with the new text, the card shows it
    tg.press(STAFF, card["message_id"], ANNA, label="✏️ Edit")
    prompt = await until(
        tg, lambda: next((m for m in tg.messages(STAFF) if "New text for complaint #1" in m["text"]), None)
    )
    new_text = "Hi, thank you for telling us & sorry <3. Please write to us privately: https://t.me/nordlys_care_bot"
    tg.send_text(STAFF, ANNA, new_text, reply_to=prompt["message_id"])
    await until(tg, lambda: new_text in tg.message(STAFF, card["message_id"])["text"])
    assert "edited by Anna" in tg.message(STAFF, card["message_id"])["text"]

    # Approve twice (a double tap): one outbox row, then the manual publisher waits for Posted
    q1 = tg.press(STAFF, card["message_id"], ANNA, label="✅ Approve")
    q2 = tg.press(STAFF, card["message_id"], ANNA, label="✅ Approve")
    await until(tg, lambda: tg.answer(q1) and tg.answer(q2))
    await until(tg, lambda: buttons(tg.message(STAFF, card["message_id"])) == ["📮 Posted", "🙋 Take"])
    assert "Final text, ready to copy" in tg.message(STAFF, card["message_id"])["text"]
    tg.press(STAFF, card["message_id"], ANNA, label="📮 Posted")
    await until(tg, lambda: "✅ Published" in tg.message(STAFF, card["message_id"])["text"])

    # the legal threat was alerted at once, the missed deadline once (complaint 1 was answered
    # after 4s only if the test was slow; either way each alert exists at most once)
    alerts = await until(tg, lambda: [m["text"] for m in tg.messages(MANAGERS)] or None)
    assert any("Legal threat in complaint #1" in a for a in alerts)
    with app.sessions() as s:
        c = s.get(Complaint, 1)
        assert c is not None and c.status == "published" and c.owner_id == ANNA and c.first_response_at
        kinds = [e.kind for e in s.scalars(select(Event).where(Event.complaint_id == 1).order_by(Event.id))]
        publish_rows = s.scalars(select(Outbox).where(Outbox.kind == "publish")).all()
        actors = set(s.scalars(select(Event.actor).where(Event.complaint_id == 1)))
    assert [k for k in kinds if k not in ("deadline_missed",)] == [
        "mention_detected",
        "complaint_opened",
        "draft_proposed",
        "owner_set",
        "draft_edited",
        "approved",
        "publish_queued",
        "published",
    ]
    assert len(publish_rows) == 1 and publish_rows[0].status == "done"
    assert {f"tg:{ANNA}", "reclaim"} <= actors and f"tg:{EVE}" not in actors


async def test_deadline_missed_alert_arrives_once(running: Any) -> None:
    app, tg, _site = running
    await until(tg, lambda: card_of(tg, 1))
    alert = await until(
        tg, lambda: [m for m in tg.messages(MANAGERS) if "no public answer by its deadline" in m["text"]], timeout=20
    )
    assert len(alert) == 1 and "#1" in alert[0]["text"]
    await asyncio.sleep(2.5)  # two more checks
    assert len([m for m in tg.messages(MANAGERS) if "deadline" in m["text"]]) == 1
    assert len([m for m in tg.messages(MANAGERS) if "Legal threat" in m["text"]]) == 1
    card = card_of(tg, 1)
    assert card is not None and "overdue" in card["text"]
    with app.sessions() as s:
        assert s.scalar(select(Complaint.status).where(Complaint.id == 1)) == "draft_ready"
