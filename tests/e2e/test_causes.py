"""Root causes from the staff chat, over the local Bot API server with the real bot: a resolved
complaint's card asks for its cause (the company's list, or the owner's words) and whether it
was justified; an open action for the cause takes the complaint in; a cause that comes back
after its action was done alerts the managers once: the fix did not hold."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from reclaim.scheduler import Runner
from sandbox.sites import Page, SiteServer
from sandbox.telegram import BotApiServer
from storage.cards import bump_card
from storage.tables import ActionComplaint, Complaint
from tests.e2e.test_conversation import data_of, staff_reply_to_prompt
from tests.e2e.test_staff_inbox import ANNA, MANAGERS, STAFF, card_of, people, telegram_settings, until
from tests.integration.test_poll import feed

CAUSES = ["late_delivery", "wrong_item", "damaged_goods"]


@pytest.fixture
async def running(db_url: str, site: SiteServer, make_app: Any) -> AsyncIterator[tuple[Any, BotApiServer]]:
    with BotApiServer() as tg:
        people(tg)
        items = [
            (str(n), f"Nordlys order {n} never arrived", "Three weeks late and no answer. Awful.") for n in (1, 2, 3)
        ]
        site.add("/feed.xml", Page(feed(*items)))
        app = make_app(
            db_url,
            [{"name": "community", "kind": "rss", "url": site.url("/feed.xml"), "every": "1h"}],
            telegram=telegram_settings(tg),
            polling={"retries": 0, "workers": 0, "jitter": "0s"},
            review={"causes": CAUSES},
        )
        stop = asyncio.Event()
        task = asyncio.create_task(Runner(app).run(until=stop))
        try:
            yield app, tg
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


def close(app: Any, cid: int) -> None:
    """As if the private conversation had ended with a satisfied customer."""
    with app.sessions.begin() as s:
        s.execute(update(Complaint).where(Complaint.id == cid).values(status="closed"))
        bump_card(s, cid)


async def press(tg: BotApiServer, cid: int, data: str) -> None:
    card = await until(tg, lambda: card_of(tg, cid))
    qid = tg.press(STAFF, card["message_id"], ANNA, data=data, check=False)
    await until(tg, lambda: tg.answer(qid))


async def test_causes_are_recorded_from_the_card_and_a_fix_that_did_not_hold_is_alerted(running: Any) -> None:
    app, tg = running
    await until(tg, lambda: card_of(tg, 3))
    actions = app.actions
    with app.sessions() as s:
        first_seen = min(s.scalars(select(Complaint.created_at)))
    old, _ = actions.add("Second carrier for Jutland", "late_delivery", "Anna", None, [], "test",
                         now=first_seen - timedelta(days=30))  # fmt: skip
    actions.finish(old, "done", now=first_seen - timedelta(days=1))  # done before these complaints came
    current, _ = actions.add(
        "Size check at packing", "wrong_item", "Bob", datetime.now(UTC) + timedelta(days=9), [], "t"
    )

    close(app, 1)
    await until(tg, lambda: "c:1:ca" in data_of(card_of(tg, 1) or {}))
    await press(tg, 1, "c:1:ca")
    await until(tg, lambda: "c:1:cs:1" in data_of(card_of(tg, 1) or {}))  # the company's causes
    await press(tg, 1, "c:1:cs:1")  # wrong item
    await until(tg, lambda: "c:1:cj:1" in data_of(card_of(tg, 1) or {}))
    await press(tg, 1, "c:1:cj:1")
    await until(tg, lambda: "Root cause: wrong item (justified)" in (card_of(tg, 1) or {}).get("text", ""))
    assert "c:1:ca" not in data_of(card_of(tg, 1) or {})
    with app.sessions() as s:
        assert s.scalars(select(ActionComplaint.complaint_id).where(ActionComplaint.action_id == current)).all() == [1]

    close(app, 2)  # late delivery again, after its fix was marked done
    await until(tg, lambda: "c:2:ca" in data_of(card_of(tg, 2) or {}))
    await press(tg, 2, "c:2:ca")
    await until(tg, lambda: "c:2:cs:0" in data_of(card_of(tg, 2) or {}))
    await press(tg, 2, "c:2:cs:0")
    alert = await until(tg, lambda: [m for m in tg.messages(MANAGERS) if "🔁" in m["text"]])
    assert "late delivery did not hold" in alert[0]["text"] and "Second carrier for Jutland" in alert[0]["text"]

    close(app, 3)  # a cause of its own, in the owner's words
    await until(tg, lambda: "c:3:ca" in data_of(card_of(tg, 3) or {}))
    await press(tg, 3, "c:3:ca")
    await until(tg, lambda: "c:3:cs:other" in data_of(card_of(tg, 3) or {}))
    await press(tg, 3, "c:3:cs:other")
    await staff_reply_to_prompt(tg, "🔎", "Courier lost the parcel")
    await until(tg, lambda: "c:3:cj:0" in data_of(card_of(tg, 3) or {}))
    await press(tg, 3, "c:3:cj:0")
    await until(tg, lambda: "Courier lost the parcel (not justified)" in (card_of(tg, 3) or {}).get("text", ""))
    await asyncio.sleep(1)
    assert len([m for m in tg.messages(MANAGERS) if "🔁" in m["text"]]) == 1
    with app.sessions() as s:
        causes = dict(s.execute(select(Complaint.id, Complaint.root_cause)).all())
        justified = dict(s.execute(select(Complaint.id, Complaint.justified)).all())
    assert causes == {1: "wrong_item", 2: "late_delivery", 3: "other:Courier lost the parcel"}
    assert justified == {1: True, 2: None, 3: False}


async def test_the_monthly_review_reaches_the_managers_as_an_html_document_once(db_url: str, make_app: Any) -> None:
    from sandbox.month import generate

    with BotApiServer() as tg:
        people(tg)
        app = make_app(db_url, [], telegram=telegram_settings(tg), timezone="Europe/Copenhagen")
        truth = generate(app.sessions, "2026-10", complaints=120, seed=2, now=datetime(2026, 11, 1, tzinfo=UTC))
        runner = Runner(app)
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(until=stop))
        try:
            assert await app.db(runner.queue_review, "2026-10")
            assert not await app.db(runner.queue_review, "2026-10")  # the 1st came twice: sent once
            doc = await until(tg, lambda: next((m for m in tg.messages(MANAGERS) if "document" in m), None), 30)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
    assert doc["document"]["file_name"] == "reclaim-review-2026-10.html"
    assert f"{truth.kinds['complaint']} complaints against {truth.kinds['praise']} compliments" in doc["caption"]
    html = tg.state.files[doc["document"]["file_id"]].decode("utf-8")
    assert html.count('<img src="data:image/png;base64,') == 5
    assert len([m for m in tg.messages(MANAGERS) if "document" in m]) == 1
