"""Telegram groups as a source, over the local Bot API server with the real python-telegram-bot:
a customer's message naming the brand becomes a card; approved, the reply goes into the group as
an answer to that message; once the customer is satisfied in the private chat, a public
follow-up is proposed and, approved, answers our first reply in the same thread. The company's
own channel posts, bots and messages not naming the brand are not mentions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from reclaim.scheduler import Runner
from sandbox.telegram import BotApiServer
from storage.tables import Complaint, Event, Mention
from tests.e2e.test_conversation import CAROL, data_of, said, staff_press, staff_reply_to_prompt
from tests.e2e.test_staff_inbox import card_of, people, telegram_settings, until

GROUP = -1001000000077
CHANNEL = -1001000000099


@pytest.fixture
async def running(db_url: str, make_app: Any) -> AsyncIterator[tuple[Any, BotApiServer]]:
    with BotApiServer() as tg:
        people(tg)
        tg.add_group(GROUP, "Nordlys community")
        tg.add_user(CAROL, "Carol", language_code="en")
        app = make_app(
            db_url,
            [{"name": "tg-community", "kind": "telegram_group", "chats": [GROUP]}],
            telegram=telegram_settings(tg),
            polling={"retries": 0, "workers": 0, "jitter": "0s"},
        )
        stop = asyncio.Event()
        task = asyncio.create_task(Runner(app).run(until=stop))
        try:
            yield app, tg
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


async def recorded(app: Any, check: Callable[[Complaint], bool], timeout: float = 10.0) -> Complaint:
    """The (one) complaint once ``check`` holds for it in the journal."""
    for _ in range(int(timeout / 0.05)):
        with app.sessions() as s:
            c = s.scalars(select(Complaint)).one()
            if check(c):
                s.expunge(c)
                return c
        await asyncio.sleep(0.05)
    raise TimeoutError("the journal never showed that")


async def test_a_group_complaint_is_answered_in_its_thread_then_followed_up(running: Any) -> None:
    app, tg = running
    chan = {"id": CHANNEL, "type": "channel", "title": "Nordlys news"}
    tg.send_text(GROUP, CAROL, "Nordlys: new coats are in!", sender_chat=chan, is_automatic_forward=True)
    tg.send_text(GROUP, CAROL, "Anyone tried the new winter range?")  # does not name the brand
    post = tg.send_text(GROUP, CAROL, "Nordlys lost my order twice and nobody answers my emails. Terrible.")
    card = await until(tg, lambda: card_of(tg, 1))
    assert "Nordlys lost my order twice" in card["text"] and "tg-community" in card["text"]

    for action in ("tk", "ap"):
        await staff_press(tg, 1, action)
    reply = await until(tg, lambda: next((m for m in tg.messages(GROUP) if m.get("from", {}).get("is_bot")), None))
    assert reply["reply_to_message"]["message_id"] == post["message_id"]
    c = await recorded(app, lambda c: c.reply_id is not None)
    assert c.reply_id == f"{GROUP}:{reply['message_id']}"
    assert c.reply_url == f"https://t.me/c/1000000077/{reply['message_id']}"
    token = c.token
    with app.sessions() as s:
        assert list(s.scalars(select(Mention.text))) == [post["text"]]  # only the customer's message
    await until(tg, lambda: "📮" not in str(card_of(tg, 1)) and "our public reply" in (card_of(tg, 1) or {})["text"])
    await staff_press(tg, 1, "re")  # our reply in the group, edited in place (editMessageText)
    await staff_reply_to_prompt(tg, "published reply to complaint #1", f"{reply['text']} We are on it.")
    edited = lambda: next((m for m in tg.messages(GROUP) if m["message_id"] == reply["message_id"]), {})  # noqa: E731
    await until(tg, lambda: edited().get("text", "").endswith("We are on it."))

    # the private conversation, up to a satisfied customer
    texts = app.conversation_texts("en")
    tg.send_text(CAROL, CAROL, f"/start {token}")
    await until(tg, lambda: len(said(tg, CAROL)) >= 2)
    for n in range(6):
        if any(d.endswith("summary:yes") for d in data_of(said(tg, CAROL)[-1])):
            break
        count = len(said(tg, CAROL))
        tg.send_text(CAROL, CAROL, f"order 4821{n}, last week")
        await until(tg, lambda c=count: len(said(tg, CAROL)) > c)
    summary = said(tg, CAROL)[-1]
    tg.press(CAROL, summary["message_id"], CAROL, data="p:1:summary:yes")
    await until(tg, lambda: "c:1:rs" in data_of(card_of(tg, 1) or {}))
    await staff_press(tg, 1, "rs")
    await staff_reply_to_prompt(tg, "✔️", "A new parcel went out today with express delivery")
    rate = await until(tg, lambda: next((m for m in said(tg, CAROL) if "p:1:satisfaction:5" in data_of(m)), None))
    tg.press(CAROL, rate["message_id"], CAROL, data="p:1:satisfaction:5")
    await until(tg, lambda: said(tg, CAROL)[-1]["text"] == texts.t("satisfaction.thanks"))

    # the follow-up: proposed on the card, approved, posted under our first reply
    card = await until(tg, lambda: (m := card_of(tg, 1)) and "c:1:fa" in data_of(m) and m)
    assert "Public follow-up" in card["text"] and "express" not in card["text"].split("Public follow-up")[1]
    await staff_press(tg, 1, "fa")
    follow = await until(
        tg, lambda: next((m for m in tg.messages(GROUP) if m.get("from", {}).get("is_bot") and m is not reply), None)
    )
    assert follow["reply_to_message"]["message_id"] == reply["message_id"]
    assert any(p in follow["text"] for p in app.drafter.templates["en"]["follow_up"])
    assert "4821" not in follow["text"] and "express" not in follow["text"]  # no case details in public
    await recorded(app, lambda c: c.follow_up == "posted")
    with app.sessions() as s:
        kinds = list(s.scalars(select(Event.kind).order_by(Event.id)))
    assert kinds.index("follow_up_proposed") < kinds.index("follow_up_approved") < kinds.index("follow_up_published")
    assert len([m for m in tg.messages(GROUP) if m.get("from", {}).get("is_bot")]) == 2
