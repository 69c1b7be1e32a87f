"""Privacy and retention: /forget and `reclaim customers forget` erase a customer's personal data
but keep the anonymous statistics; `reclaim purge` anonymises finished complaints older than
`retention` and deletes old mentions that never became complaints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, update

from core.ingest import ComplaintPlan, IngestPlan, MentionPlan, new_token
from core.lifecycle import Status
from core.model import Kind, RawMention, Severity, Triage
from reclaim.app import App
from reclaim.cli import main
from responders.conversation import CustomerText
from services.conversations import PrivateConversations
from storage.journal import record_plan
from storage.tables import Complaint, ConversationRow, Draft, Event, Mention

ZONE_NOW = datetime.now(UTC)


class Who:
    def __init__(self, user_id: int, name: str, username: str | None = None) -> None:
        self.user_id, self.chat_id, self.name, self.username = user_id, user_id, name, username


def seed(app: App, *, when: datetime, n: int = 1, praise: bool = False) -> list[str]:
    plan = IngestPlan(source="reviews", fetched_at=when)
    tokens = []
    for i in range(n):
        raw = RawMention(
            external_id=f"{when.timestamp()}-{i}", text=f"Emma Larsen here, order {i} never came", author="Emma Larsen"
        )
        kind = Kind.PRAISE if praise else Kind.COMPLAINT
        triage = Triage("en", kind, (), Severity.NORMAL, "delivery")
        token = new_token()
        tokens.append(token)
        complaint = None if praise else ComplaintPlan(token, Status.PUBLISHED, when, "Dear Emma, sorry")
        plan.mentions.append(MentionPlan(raw, triage, complaint))
    with app.sessions.begin() as session:
        record_plan(session, plan)  # the complaint is created at ``when``, the fetch time
    return tokens


def config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"brand": {"name": "Nordlys"}, "database": {"url": db_url}}))
    return path


def test_forget_erases_the_person_and_keeps_the_numbers(db_url: str, make_app: Any, tmp_path: Path) -> None:
    app: App = make_app(db_url, [])
    (token,) = seed(app, when=ZONE_NOW)
    conv: PrivateConversations = app.conversations
    assert conv.bind(token, Who(42, "Emma"), 1).status == "bound"
    conv.customer_text(Who(42, "Emma"), CustomerText("my order is 77123 and I live at Strandvej 4"), 2)
    assert main(["--config", str(config(tmp_path, db_url)), "customers", "forget", "42"]) == 0
    with app.sessions() as s:
        m = s.scalars(select(Mention)).one()
        row = s.scalars(select(ConversationRow)).one()
        c = s.scalars(select(Complaint)).one()
        drafts = list(s.scalars(select(Draft.text)))
        actors = set(s.scalars(select(Event.actor)))
        kinds = list(s.scalars(select(Event.kind)))
    assert m.author is None and "Emma" not in m.text and drafts == ["[erased]"]
    assert row.customer_id is None and row.customer_name is None and row.state["answers"] == {}
    assert "customer:tg:42" not in actors
    assert "Strandvej" not in str(row.state)
    assert c.category == "delivery" and c.language == "en" and "conversation_started" in kinds  # statistics stay
    # the customer is no longer known: a new message opens nothing old
    assert conv.customer_text(Who(42, "Emma"), CustomerText("hello?"), 3).status == "none"


def test_purge_anonymises_old_finished_complaints_only(db_url: str, make_app: Any, tmp_path: Path) -> None:
    app: App = make_app(db_url, [])
    old = ZONE_NOW - timedelta(days=6 * 365)
    seed(app, when=old, n=2)
    seed(app, when=old, praise=True)
    seed(app, when=ZONE_NOW)
    assert main(["--config", str(config(tmp_path, db_url)), "purge"]) == 0
    with app.sessions() as s:
        texts = {c.id: s.get(Mention, c.mention_id).text for c in s.scalars(select(Complaint).order_by(Complaint.id))}  # type: ignore[union-attr]
        mentions = len(list(s.scalars(select(Mention.id))))
    assert list(texts.values())[:2] == ["[erased]", "[erased]"]
    assert "never came" in list(texts.values())[2]
    assert mentions == 3  # the old praise is gone
    assert main(["--config", str(config(tmp_path, db_url)), "purge"]) == 0  # again: nothing more to do


def test_a_forgotten_link_refuses_everyone_and_staff_replies_are_not_delivered(
    db_url: str, make_app: Any, tmp_path: Path
) -> None:
    """Before: after /forget a stranger opening the same public link was bound to the still-open
    conversation ("Welcome back") and received the owner's next message."""
    from core.inbox import Staff
    from storage.tables import Outbox

    app: App = make_app(db_url, [])
    (token,) = seed(app, when=ZONE_NOW)
    conv: PrivateConversations = app.conversations
    assert conv.bind(token, Who(42, "Emma"), 1).status == "bound"
    assert conv.forget(42) == 1
    assert conv.bind(token, Who(99, "Mallory", "mallory"), 2).status == "unknown"
    assert conv.bind(token, Who(42, "Emma"), 3).status == "unknown"  # ended for good, for her too
    with app.sessions() as s:
        c = s.scalars(select(Complaint)).one()
        row = s.scalars(select(ConversationRow)).one()
        before = len(list(s.scalars(select(Outbox.id))))
    assert c.token != token and c.status == "closed" and row.step == "closed" and row.customer_id is None
    anna = Staff(111, "Anna")
    assert conv.owner_says(c.id, "Your card ending 4111 is refunded", anna, 4).status == "forgotten"
    with app.sessions() as s:
        assert len(list(s.scalars(select(Outbox.id)))) == before  # nothing queued to anyone
        payloads = [str(p) for p in s.scalars(select(Outbox.payload))]
    assert not any("4111" in p for p in payloads)


def test_the_card_names_who_opened_the_link_and_the_owner_can_release_it(db_url: str, make_app: Any) -> None:
    from core.inbox import Action, Staff

    app: App = make_app(db_url, [])
    (token,) = seed(app, when=ZONE_NOW)
    conv: PrivateConversations = app.conversations
    with app.sessions() as s:
        cid = s.scalars(select(Complaint.id)).one()
    assert conv.bind(token, Who(99, "Mallory", "mallory"), 1).status == "bound"
    view = app.inbox.card(cid)
    assert view is not None and (view.customer_name, view.customer_username, view.author) == (
        "Mallory", "mallory", "Emma Larsen")  # fmt: skip
    from zoneinfo import ZoneInfo

    from bot.cards import keyboard, render

    html = render(view, app.staff_texts, ZONE_NOW, ZoneInfo("UTC"), "https://t.me/bot?start=")
    assert "Mallory @mallory" in html and "Emma Larsen" in html
    assert any(b.data == f"c:{cid}:rl" for row in keyboard(view, app.staff_texts) for b in row)
    anna, bob = Staff(111, "Anna"), Staff(222, "Bob")
    assert app.inbox.act(cid, Action.RELEASE, anna, None, 2).notice == "release_owner_only"
    app.inbox.act(cid, Action.TAKE, anna, None, 3)
    assert app.inbox.act(cid, Action.RELEASE, bob, None, 4).notice == "release_owner_only"
    with app.sessions.begin() as s:  # a reply still to be posted carries the link
        s.execute(update(Draft).values(text=f"Dear Emma, sorry. https://t.me/bot?start={token}"))
    assert app.inbox.act(cid, Action.RELEASE, anna, None, 5).notice == "link_released"
    assert conv.customer_text(Who(99, "Mallory"), CustomerText("hello?"), 6).status == "none"  # unbound
    assert conv.bind(token, Who(99, "Mallory"), 7).status == "unknown"  # the old link is dead
    view = app.inbox.card(cid)
    assert view is not None and view.new_link is not None and view.new_link != token and view.customer_name is None
    assert "https://t.me/bot?start=" + view.new_link in render(view, app.staff_texts, ZONE_NOW, ZoneInfo("UTC"),
                                                                 "https://t.me/bot?start=")  # fmt: skip
    with app.sessions() as s:
        assert s.scalars(select(Draft.text)).one() == f"Dear Emma, sorry. https://t.me/bot?start={view.new_link}"
    assert conv.bind(view.new_link, Who(42, "Emma"), 8).status == "bound"  # the real customer, fresh
    assert app.inbox.act(cid, Action.RELEASE, bob, None, 9).notice == "release_owner_only"
