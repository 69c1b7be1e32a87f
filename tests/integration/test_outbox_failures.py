"""Outbox rows never retry for ever: a complaint answered only in private proposes no public
follow-up after a reopen, a row whose publisher does not exist is refused at once, and a row
Telegram keeps refusing is given up after `outbox.max_attempts`, shown on its card and listed,
queued again or dropped with `reclaim outbox`."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.dispatch import Dispatcher
from bot.service import BotOptions, build_application
from core.model import Kind, Severity, Step, Triage
from reclaim.app import App
from reclaim.cli import main
from responders.conversation import Conversation, CustomerText
from sandbox.telegram import TOKEN, BotApiServer
from storage.tables import Complaint, ConversationRow, Draft, Event, Outbox

STAFF = -1001000000077


@dataclass(frozen=True)
class Who:
    user_id: int
    chat_id: int
    name: str | None
    username: str | None = None


def at_satisfaction(app: App, cid: int) -> None:
    with app.sessions.begin() as s:
        row = s.get(ConversationRow, cid)
        assert row is not None
        row.state = Conversation("en", "delivery", step=Step.SATISFACTION).to_json()
        row.step = Step.SATISFACTION.value


def test_a_private_complaint_reopened_then_rated_well_proposes_no_public_follow_up(db_url: str, make_app: Any) -> None:
    """Before: the reopen marked it published, and the 5 then proposed a follow-up with publisher
    'none' that the dispatcher retried for ever."""
    app = make_app(db_url, [])
    who = Who(500, 500, "Dave")
    triage = Triage("en", Kind.COMPLAINT, (), Severity.NORMAL, "delivery")
    cid = app.conversations.open_private(who, CustomerText("My Nordlys order never came"), triage, 1).complaint_id
    at_satisfaction(app, cid)
    app.conversations.customer_button(who, cid, "satisfaction:2", 2)
    with app.sessions() as s:
        c = s.get(Complaint, cid)
        assert c is not None and c.status == "private"  # reopened, still private only
    at_satisfaction(app, cid)
    app.conversations.customer_button(who, cid, "satisfaction:5", 3)
    with app.sessions() as s:
        c = s.get(Complaint, cid)
        assert c is not None and c.status == "closed" and c.follow_up is None
        assert not s.scalars(select(Draft).where(Draft.complaint_id == cid, Draft.purpose == "follow_up")).all()


def options(tg: BotApiServer) -> BotOptions:
    return BotOptions(token=TOKEN, staff_chat_id=STAFF, staff_ids=frozenset({1}), alerts_chat_id=STAFF,
                      zone=ZoneInfo("UTC"), base_url=tg.base_url)  # fmt: skip


def queue(app: App, key: str, kind: str, payload: dict[str, Any], complaint_id: int | None) -> None:
    """A row as the journal holds it: JSON, which may be one no version could send ("say:bad")."""
    now = datetime.now(UTC)
    with app.sessions.begin() as s:
        s.add(Outbox(key=key, kind=kind, complaint_id=complaint_id, payload=payload, status="pending", attempts=0,
                     next_attempt_at=now, created_at=now, updated_at=now))  # fmt: skip


async def send_due(app: App, d: Dispatcher) -> None:
    with app.sessions.begin() as s:  # whatever backoff said, it is due now
        s.execute(update(Outbox).where(Outbox.status == "pending").values(next_attempt_at=datetime.now(UTC)))
    for item in app.delivery.claim(10):
        await d.send(item)


def a_complaint(app: App) -> int:
    who = Who(501, 501, "Eve")
    triage = Triage("en", Kind.COMPLAINT, (), Severity.NORMAL, "delivery")
    return app.conversations.open_private(who, CustomerText("Nordlys lost my parcel"), triage, 10).complaint_id


def status_of(app: App, key: str) -> Outbox:
    with app.sessions() as s:
        row = s.scalars(select(Outbox).where(Outbox.key == key)).one()
        s.expunge(row)
        return row


async def test_refusals_stop_failures_are_bounded_shown_and_handled_by_staff(
    db_url: str, make_app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(db_url, [], outbox={"max_attempts": 3, "give_up_after": "1h"})
    cid = a_complaint(app)
    queue(app, "publish:x", "publish", {"publisher": "none", "text": "Thank you"}, cid)
    queue(app, "say:x", "say", {"chat_id": 999, "messages": [{"text": "hello", "buttons": []}]}, cid)
    queue(app, "say:bad", "say", {"no chat": True}, cid)
    with BotApiServer() as tg:
        tg.add_group(STAFF, "staff")
        application = build_application(options(tg))
        async with application:
            d = Dispatcher(application.bot, app.delivery, app.staff_texts, STAFF, STAFF, ZoneInfo("UTC"), db=app.db)
            for _ in range(3):
                await send_due(app, d)
    assert status_of(app, "publish:x").status == "refused"  # no such publisher: definite, at once
    assert status_of(app, "publish:x").attempts == 1
    bad = status_of(app, "say:bad")
    assert bad.status == "failed" and bad.attempts == 1  # a payload that cannot be sent: at once
    chat = status_of(app, "say:x")
    assert chat.status == "failed" and chat.attempts == 1  # Telegram's definite refusal: at once
    assert "Forbidden: bot can't initiate" in (chat.last_error or "")
    view = app.inbox.card(cid)
    assert view is not None and any(f.startswith(f"#{chat.id} say: Forbidden") for f in view.failed_sends)
    from bot.cards import render

    assert "Not sent" in render(view, app.staff_texts, datetime.now(UTC), ZoneInfo("UTC"))
    with app.sessions() as s:
        assert s.scalars(select(Event.kind).where(Event.complaint_id == cid, Event.kind == "send_failed")).all()

    config = tmp_path / "config.yaml"
    config.write_text(f"brand: {{name: Nordlys}}\ndatabase: {{url: '{db_url}'}}\n", encoding="utf-8")
    cli = ["--config", str(config), "outbox"]
    capsys.readouterr()
    assert main([*cli, "list", "--json"]) == 0
    listed = {r["key"]: r for r in json.loads(capsys.readouterr().out)}
    assert {"say:x", "say:bad"} <= set(listed) and listed["say:x"]["last_error"] == chat.last_error
    # by default everything a person must look at: the refused reply too, not only the failed rows
    assert listed["publish:x"]["status"] == "refused"
    assert main([*cli, "list", "--status", "failed", "--json"]) == 0
    assert {r["status"] for r in json.loads(capsys.readouterr().out)} == {"failed"}
    assert main([*cli, "retry", str(chat.id)]) == 0
    again = status_of(app, "say:x")
    assert again.status == "pending" and again.attempts == 0
    assert main([*cli, "drop", str(bad.id)]) == 0
    assert status_of(app, "say:bad").status == "dropped"
    assert main([*cli, "drop", str(bad.id)]) == 2  # nothing to drop now
    assert main([*cli, "retry"]) == 2  # which rows?
    assert main([*cli, "retry", "--all"]) == 0
    assert status_of(app, "publish:x").status == "refused"  # --all takes the failed rows only
    # a refused public reply went to a person to post by hand: a resend could make it public twice
    assert main([*cli, "retry", str(status_of(app, "publish:x").id)]) == 2
    assert "post it by hand" in capsys.readouterr().err
    assert status_of(app, "publish:x").status == "refused"
    view = app.inbox.card(cid)
    assert view is not None and view.failed_sends == ()


async def test_an_outage_fails_nothing_until_give_up_after_and_repeated_errors_stop_at_max_attempts(
    db_url: str, make_app: Any
) -> None:
    app = make_app(db_url, [], outbox={"max_attempts": 3, "give_up_after": "1h"})
    cid = a_complaint(app)
    queue(app, "say:y", "say", {"chat_id": 501, "messages": [{"text": "hello", "buttons": []}]}, cid)
    with BotApiServer() as tg:
        down = replace(options(tg), base_url="http://127.0.0.1:9/bot")  # nothing listens there
        application = build_application(down)
        d = Dispatcher(application.bot, app.delivery, app.staff_texts, STAFF, STAFF, ZoneInfo("UTC"), db=app.db)
        for _ in range(5):
            await send_due(app, d)
    row = status_of(app, "say:y")
    assert row.status == "pending" and row.attempts == 5  # past max_attempts: an outage is not a refusal
    with app.sessions.begin() as s:  # two hours of outage
        s.execute(update(Outbox).where(Outbox.key == "say:y").values(created_at=datetime.now(UTC) - timedelta(hours=2)))
    with BotApiServer() as tg:
        application = build_application(replace(options(tg), base_url="http://127.0.0.1:9/bot"))
        d = Dispatcher(application.bot, app.delivery, app.staff_texts, STAFF, STAFF, ZoneInfo("UTC"), db=app.db)
        await send_due(app, d)
    row = status_of(app, "say:y")
    assert row.status == "failed" and "given up after 2.0 h" in (row.last_error or "")

    queue(app, "say:z", "say", {"chat_id": 501, "messages": [{"text": "hi", "buttons": []}]}, cid)
    for _ in range(4):  # an error that comes back the same (say a 409 from Telegram), four times
        with app.sessions.begin() as s:
            s.execute(update(Outbox).where(Outbox.status == "pending").values(next_attempt_at=datetime.now(UTC)))
        for item in app.delivery.claim(10):
            app.delivery.retry(item, "Conflict: terminated by other getUpdates request", timedelta(seconds=1))
    row = status_of(app, "say:z")
    assert row.status == "failed" and row.attempts == 3 and "given up after 3 attempts" in (row.last_error or "")


def test_a_follow_up_cut_off_mid_send_waits_for_a_person_and_leaves_the_complaint_closed(
    db_url: str, make_app: Any
) -> None:
    """Before: a restart marked the closed complaint itself 'publish_unconfirmed' (the follow-up's
    row went through the first reply's path), and the follow-up stayed 'queued' with no button."""
    app = make_app(db_url, [])
    cid = a_complaint(app)
    with app.sessions.begin() as s:
        s.execute(update(Complaint).where(Complaint.id == cid).values(status="closed", follow_up="queued",
                                                                      publisher="reddit"))  # fmt: skip
    queue(app, f"followup:{cid}", "publish", {"publisher": "reddit", "text": "Sorted, thanks", "follow_up": True}, cid)
    with app.sessions.begin() as s:
        s.execute(update(Outbox).where(Outbox.key == f"followup:{cid}").values(status="sending"))
    assert app.delivery.recover(frozenset()) == 1
    with app.sessions() as s:
        c = s.get(Complaint, cid)
        assert c is not None and (c.status, c.follow_up) == ("closed", "unconfirmed")
    assert status_of(app, f"followup:{cid}").status == "unconfirmed"
    card = app.inbox.card(cid)
    assert card is not None and card.follow_up == "unconfirmed"
