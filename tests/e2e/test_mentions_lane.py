"""The mentions lane over the local Bot API server with the real python-telegram-bot, on a
Telegram group: a question gets a compact card and, answered, an FAQ-backed reply approved and
published in the group; praise is thanked the same way; a mention triaged as "other" shows as
unsure and It's a complaint makes a complaint card with a draft; Ignore records a label; a
stranger's press is refused and changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from reclaim.scheduler import Runner
from sandbox.telegram import BotApiServer
from storage.tables import Complaint, Mention
from storage.tables_triage import Label
from tests.e2e.test_conversation import CAROL, DAVE, data_of, staff_press
from tests.e2e.test_staff_inbox import ANNA, EVE, STAFF, card_of, people, telegram_settings, until

GROUP = -1001000000077


@pytest.fixture
async def running(db_url: str, make_app: Any) -> AsyncIterator[tuple[Any, BotApiServer]]:
    with BotApiServer() as tg:
        people(tg)
        tg.add_group(GROUP, "Nordlys community")
        tg.add_user(CAROL, "Carol", language_code="en")
        tg.add_user(DAVE, "Dave", language_code="en")
        app = make_app(
            db_url,
            [{"name": "tg-community", "kind": "telegram_group", "chats": [GROUP]}],
            telegram=telegram_settings(tg),
            polling={"retries": 0, "workers": 0, "jitter": "0s"},
        )
        app.faq.add("Do you ship to Iceland?", "Yes, we ship to Iceland in 3 to 5 days.", "en", None, "web:1")
        stop = asyncio.Event()
        task = asyncio.create_task(Runner(app).run(until=stop))
        try:
            yield app, tg
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


def lane_card(tg: BotApiServer, mention_id: int) -> dict[str, Any] | None:
    return next((m for m in tg.messages(STAFF) if any(d.startswith(f"m:{mention_id}:") for d in data_of(m))), None)


async def press_lane(tg: BotApiServer, mention_id: int, action: str, who: int = ANNA) -> dict[str, Any] | None:
    card = await until(tg, lambda: lane_card(tg, mention_id))
    qid = tg.press(STAFF, card["message_id"], who, data=f"m:{mention_id}:{action}", check=False)
    return await until(tg, lambda: tg.answer(qid))


def bot_replies(tg: BotApiServer) -> list[dict[str, Any]]:
    return [m for m in tg.messages(GROUP) if m.get("from", {}).get("is_bot")]


async def test_question_praise_unsure_and_ignore_from_the_staff_chat(running: Any) -> None:
    app, tg = running
    question = tg.send_text(GROUP, CAROL, "Nordlys do you ship to Iceland?")
    card = await until(tg, lambda: lane_card(tg, 1))
    assert "Do you ship to Iceland?" in card["text"] and data_of(card) == ["m:1:c", "m:1:a", "m:1:i"]
    refused = await press_lane(tg, 1, "a", who=EVE)
    assert refused is not None and refused.get("show_alert")
    await press_lane(tg, 1, "a")
    answer_card = await until(tg, lambda: card_of(tg, 1))
    assert answer_card["text"].split("\n", 1)[0].endswith("Question #1</b>") or "Question #1" in answer_card["text"]
    assert "Yes, we ship to Iceland in 3 to 5 days." in answer_card["text"]
    done = await until(tg, lambda: "Answer drafted as #1 by Anna" in tg.message(STAFF, card["message_id"])["text"])
    assert done and not data_of(tg.message(STAFF, card["message_id"]))  # the card says who did what, no buttons
    for action in ("tk", "ap"):
        await staff_press(tg, 1, action)
    reply = await until(tg, lambda: next(iter(bot_replies(tg)), None))
    assert reply["reply_to_message"]["message_id"] == question["message_id"]
    assert "Yes, we ship to Iceland in 3 to 5 days." in reply["text"]

    praise = tg.send_text(GROUP, DAVE, "Nordlys the new winter coat is lovely, thank you so much!")
    card = await until(tg, lambda: lane_card(tg, 2))
    assert data_of(card) == ["m:2:c", "m:2:t", "m:2:i"]
    await press_lane(tg, 2, "t")
    for action in ("tk", "ap"):
        await staff_press(tg, 2, action)
    thanks = await until(tg, lambda: (r := bot_replies(tg)) and len(r) == 2 and r[1])
    assert thanks["reply_to_message"]["message_id"] == praise["message_id"]
    assert any(p.format(brand="Nordlys") in thanks["text"] for p in app.drafter.templates["en"]["praise_thanks"])

    tg.send_text(GROUP, CAROL, "Nordlys the locker at Norreport stays shut with my code")
    card = await until(tg, lambda: lane_card(tg, 3))
    assert "unsure" in card["text"]
    await press_lane(tg, 3, "c")
    complaint = await until(tg, lambda: card_of(tg, 3))
    assert "Complaint #3" in complaint["text"] and "c:3:ap" in data_of(complaint)

    tg.send_text(GROUP, DAVE, "Saw the Nordlys van on Vesterbro this morning")
    await press_lane(tg, 4, "i")
    await until(tg, lambda: not data_of(tg.message(STAFF, lane_card_id(tg, 4))))
    with app.sessions() as s:
        kinds = {c.mention_id: c.kind for c in s.scalars(select(Complaint))}
        assert kinds == {1: "question", 2: "praise", 3: "complaint"}
        lanes = {row[0]: row[1] for row in s.execute(select(Mention.id, Mention.lane))}
        assert lanes == {1: "answered", 2: "thanked", 3: "promoted", 4: "ignored"}
        labels = {lb.mention_id: (lb.complaint, lb.origin) for lb in s.scalars(select(Label))}
    assert labels[3] == (True, "promote") and labels[4] == (False, "ignore") and labels[1] == (False, "answer")


def lane_card_id(tg: BotApiServer, mention_id: int) -> int:
    for m in tg.messages(STAFF):
        if f"m:{mention_id}:" in str(m.get("reply_markup")) or "Ignored by" in m["text"]:
            return int(m["message_id"])
    raise LookupError(mention_id)
