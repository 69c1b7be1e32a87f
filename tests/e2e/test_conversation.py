"""The private conversation end to end, in each of en, ru and da: a public complaint is approved
and posted, the customer opens the link, answers the questions, confirms the summary, chooses
one of the owner's options, is told when they will hear back, is told what was done and rates
it; the complaint is closed with every step in its event log. Someone else using the same link
learns nothing. The real python-telegram-bot runs against the local Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from reclaim.scheduler import Runner
from responders.conversation_words import Texts
from sandbox.sites import Page, SiteServer
from sandbox.telegram import BotApiServer
from storage.tables import Complaint, Event, Promise
from tests.e2e.test_staff_inbox import ANNA, MANAGERS, STAFF, card_of, people, telegram_settings, until
from tests.integration.test_poll import feed

CAROL, DAVE = 555, 666
POSTS = {
    "en": ("Nordlys lost my order", "My Nordlys order never arrived and nobody answers my emails. Terrible."),
    "ru": ("Nordlys потеряли заказ", "Мой заказ в Nordlys так и не пришёл, никто не отвечает на письма. Ужасно."),
    "da": (
        "Nordlys mistede min ordre",
        "Min ordre fra Nordlys kom aldrig frem, og ingen svarer på mine mails. Elendigt.",
    ),
}


@pytest.fixture
async def running(
    request: pytest.FixtureRequest, db_url: str, site: SiteServer, make_app: Any
) -> AsyncIterator[tuple[Any, BotApiServer]]:
    lang, conversation = request.param if isinstance(request.param, tuple) else (request.param, {})
    with BotApiServer() as tg:
        people(tg)
        tg.add_user(CAROL, "Carol", language_code=lang)
        tg.add_user(DAVE, "Dave", language_code=lang)
        title, text = POSTS[lang]
        site.add("/feed.xml", Page(feed(("1", title, text))))
        app = make_app(
            db_url,
            [{"name": "community", "kind": "rss", "url": site.url("/feed.xml"), "every": "1h"}],
            telegram=telegram_settings(tg),
            polling={"retries": 0, "workers": 0, "jitter": "0s"},
            timezone="Europe/Copenhagen",
            conversation=conversation,
            alerts={"check_every": "1s"},
        )
        stop = asyncio.Event()
        task = asyncio.create_task(Runner(app).run(until=stop))
        try:
            yield app, tg
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


def said(tg: BotApiServer, chat: int) -> list[dict[str, Any]]:
    return tg.messages(chat)


def data_of(message: dict[str, Any]) -> list[str]:
    return [b["callback_data"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def staff_press(tg: BotApiServer, cid: int, action: str) -> None:
    card = await until(tg, lambda: card_of(tg, cid))
    qid = tg.press(STAFF, card["message_id"], ANNA, data=f"c:{cid}:{action}", check=False)
    await until(tg, lambda: tg.answer(qid))


async def staff_reply_to_prompt(tg: BotApiServer, marker: str, text: str) -> None:
    prompt = await until(tg, lambda: next((m for m in reversed(tg.messages(STAFF)) if marker in m["text"]), None))
    tg.send_text(STAFF, ANNA, text, reply_to=prompt["message_id"])


async def up_to_the_choice(app: Any, tg: BotApiServer) -> tuple[str, Texts, dict[str, Any]]:
    """Published, opened by Carol, clarified, confirmed; Anna offers two options, Carol takes
    the second and is told when she will hear back. Returns the token, the texts, that message."""
    await until(tg, lambda: card_of(tg, 1))
    for action in ("tk", "ap", "ps"):  # Anna takes it, approves, posts it by hand
        await staff_press(tg, 1, action)
    with app.sessions() as s:
        c = s.scalars(select(Complaint)).one()
        token, lang = c.token, c.language
    texts = app.conversation_texts(lang)

    tg.send_text(CAROL, CAROL, f"/start {token}")
    first = await until(tg, lambda: said(tg, CAROL))
    assert first[0]["text"] == texts.t("contact.named", name="Carol")

    # one question at a time, until the bot restates the essentials
    await until(tg, lambda: len(said(tg, CAROL)) >= 2)  # the welcome, then a question (or the summary)
    for n in range(6):
        if any(d.endswith("summary:yes") for d in data_of(said(tg, CAROL)[-1])):
            break
        count = len(said(tg, CAROL))
        tg.send_text(CAROL, CAROL, f"answer {n} 48213")
        await until(tg, lambda c=count: len(said(tg, CAROL)) > c)
    summary = said(tg, CAROL)[-1]
    assert data_of(summary) == ["p:1:summary:yes", "p:1:summary:no"]
    assert "48213" in summary["text"] or "answer" in summary["text"] or POSTS[lang][1][:20] in summary["text"]
    tg.press(CAROL, summary["message_id"], CAROL, data="p:1:summary:yes")

    # the owner proposes two options from the staff chat; the customer chooses with a button
    await until(tg, lambda: said(tg, CAROL)[-1]["text"] == texts.t("solution.wait", owner="Anna"))
    await until(tg, lambda: "c:1:of" in data_of(card_of(tg, 1) or {}))
    await staff_press(tg, 1, "of")
    refund = texts.t("presets.refund")  # a preset for delivery complaints, in the customer's language
    await until(tg, lambda: any(refund in m["text"] for m in tg.messages(STAFF) if "💡" in m["text"]))
    await staff_reply_to_prompt(tg, "💡", "Replacement coat\n2")  # free text, then preset number 2
    offer = await until(tg, lambda: next((m for m in said(tg, CAROL) if "p:1:choosing:1" in data_of(m)), None))
    assert "Replacement coat" in offer["text"] and refund in offer["text"]
    tg.press(CAROL, offer["message_id"], CAROL, data="p:1:choosing:1")
    await until(tg, lambda: len([m for m in said(tg, CAROL) if m["message_id"] > offer["message_id"]]) >= 2)
    with app.sessions() as s:
        due = s.scalars(select(Promise.due)).one()
    promise = said(tg, CAROL)[-1]
    assert due.astimezone(app.zone).strftime("%H:%M") in promise["text"]
    return token, texts, promise


@pytest.mark.parametrize("running", ["en", "ru", "da"], indirect=True)
async def test_from_the_link_to_a_satisfied_customer(running: Any) -> None:
    app, tg = running
    token, texts, _ = await up_to_the_choice(app, tg)

    # the owner says what was done; the customer rates it
    await staff_press(tg, 1, "rs")
    await staff_reply_to_prompt(tg, "✔️", "The refund of 899 kr is on its way")
    rate = await until(tg, lambda: next((m for m in said(tg, CAROL) if "p:1:satisfaction:5" in data_of(m)), None))
    tg.press(CAROL, rate["message_id"], CAROL, data="p:1:satisfaction:5")
    await until(tg, lambda: said(tg, CAROL)[-1]["text"] == texts.t("satisfaction.thanks"))

    with app.sessions() as s:
        assert s.scalars(select(Complaint.status)).one() == "closed"
        kinds = list(s.scalars(select(Event.kind).order_by(Event.id)))
        kept = s.scalars(select(Promise.kept_at)).one()
    assert kept is not None  # the owner came back before the time told
    steps = [
        "customer_bound",
        "conversation_started",
        "summary_shown",
        "summary_confirmed",
        "options_proposed",
        "option_chosen",
        "promise_made",
        "resolved",
        "rated",
        "closed",
    ]
    positions = [kinds.index(k) for k in steps]
    assert positions == sorted(positions), kinds

    # someone else with the same link learns nothing about the complaint
    tg.send_text(DAVE, DAVE, f"/start {token}")
    refusal = await until(tg, lambda: said(tg, DAVE))
    assert [m["text"] for m in refusal] == [texts.t("link.taken")]
    await asyncio.sleep(0.5)
    assert len(said(tg, DAVE)) == 1


@pytest.mark.parametrize(
    "running", [("da", {"promise": "6s", "extension": "1h", "remind_before": "4s"})], indirect=True
)
async def test_a_promise_that_passes_unmet_is_apologised_for_and_alerted_once(running: Any) -> None:
    app, tg = running
    _, _, promise = await up_to_the_choice(app, tg)
    await staff_press(tg, 1, "sl")  # Anna knows it will be late, and why
    await staff_reply_to_prompt(tg, "⌛", "Lageret har lukket i dag.")
    await until(tg, lambda: tg.messages(STAFF)[-1]["text"] == app.staff_texts.t("notice", "slip_saved"))
    apology = await until(
        tg, lambda: next((m for m in said(tg, CAROL) if m["message_id"] > promise["message_id"]), None), timeout=20
    )
    with app.sessions() as s:
        promises = list(s.scalars(select(Promise).order_by(Promise.id)))
    assert promises[0].missed_at is not None and promises[1].missed_at is None
    new_time = promises[1].due.astimezone(app.zone).strftime("%H:%M")
    assert "Lageret har lukket i dag." in apology["text"] and new_time in apology["text"]
    alert = await until(tg, lambda: [m for m in tg.messages(MANAGERS) if "⌛" in m["text"]])
    await asyncio.sleep(3)  # further checks raise nothing more
    assert len([m for m in tg.messages(MANAGERS) if "⌛" in m["text"]]) == len(alert) == 1
    assert len([m for m in said(tg, CAROL) if m["message_id"] > promise["message_id"]]) == 1
    assert any("⏰" in m["text"] for m in tg.messages(STAFF))  # Anna was reminded before it passed


@pytest.mark.parametrize("running", ["ru"], indirect=True)
async def test_writing_with_no_link_opens_a_complaint_with_the_same_steps_and_card(running: Any) -> None:
    app, tg = running
    await until(tg, lambda: card_of(tg, 1))  # the feed's complaint
    tg.send_text(DAVE, DAVE, "Здравствуйте, мой заказ пришёл разбитым, коробка была мокрой и вся посуда побита")
    card = await until(tg, lambda: card_of(tg, 2))
    assert "telegram_private" in card["text"] and "Здравствуйте, мой заказ пришёл разбитым" in card["text"]
    texts = app.conversation_texts("ru")
    first = await until(tg, lambda: said(tg, DAVE)[:2] if len(said(tg, DAVE)) >= 2 else None)
    assert first[0]["text"] == texts.t("contact.named", name="Dave")
    assert first[1]["text"].endswith("?") or first[1]["text"].startswith(texts.t("summary.ask", facts="")[:20])
    with app.sessions() as s:
        c = s.get(Complaint, 2)
        assert c is not None and c.status == "private" and c.first_response_at is not None
    tg.send_text(DAVE, DAVE, "/status")
    await until(tg, lambda: said(tg, DAVE)[-1]["text"] in {texts.t(f"status.{k}") for k in ("clarify", "summary")})
    tg.send_text(DAVE, DAVE, "/forget")
    await until(tg, lambda: said(tg, DAVE)[-1]["text"] == texts.t("link.forgotten"))
    with app.sessions() as s:
        m = s.get(Complaint, 2)
        assert m is not None
        assert s.scalars(select(Event.kind).where(Event.complaint_id == 2, Event.kind == "personal_data_erased")).one()


@pytest.mark.parametrize("running", ["en"], indirect=True)
async def test_photos_and_words_reach_the_staff_thread_and_replies_come_back(running: Any) -> None:
    app, tg = running
    await until(tg, lambda: card_of(tg, 1))
    for action in ("tk", "ap", "ps"):
        await staff_press(tg, 1, action)
    with app.sessions() as s:
        token = s.scalars(select(Complaint.token)).one()
    tg.send_text(CAROL, CAROL, f"/start {token}")
    await until(tg, lambda: len(said(tg, CAROL)) >= 2)
    tg.send_photo(CAROL, CAROL, caption="the <b>broken</b> box")
    relayed = await until(tg, lambda: [m for m in tg.messages(STAFF) if "photo" in m])
    header = next(m for m in tg.messages(STAFF) if "the <b>broken</b> box" in m.get("text", ""))
    assert relayed[0]["reply_to_message"]["message_id"] == header["message_id"]
    assert header["reply_to_message"]["message_id"] == card_of(tg, 1)["message_id"]  # type: ignore[index]
    count = len(said(tg, CAROL))
    tg.send_text(STAFF, ANNA, "Thank you, Carol — that helps.", reply_to=header["message_id"])
    await until(tg, lambda: len(said(tg, CAROL)) > count)
    assert said(tg, CAROL)[-1]["text"] == "Thank you, Carol — that helps."
