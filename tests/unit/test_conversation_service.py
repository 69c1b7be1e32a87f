"""The private conversation's use cases (services/conversations.py, services/promises.py) on
the in-memory unit of work: binding by the link, each step's effects, duplicates, /forget,
promises reminded and missed once, and the follow-up a satisfied public customer brings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.inbox import Staff
from core.ingest import ComplaintPlan, IngestPlan, MentionPlan
from core.lifecycle import Status
from core.model import Flag, Kind, RawMention, Severity, Triage
from responders.conversation import CustomerText, OptionsProposed, Resolved
from responders.conversation_words import load_conversation_texts
from services.conversations import PrivateConversations
from services.machine import Playbook
from services.promises import check_promises
from tests.fakes import FakeStore, FakeUnitOfWork

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ANNA = Staff(7, "Anna")
TRIAGE = Triage("en", Kind.COMPLAINT, (), Severity.NORMAL, "delivery")


@dataclass
class Person:
    user_id: int
    chat_id: int
    name: str | None = "Emma"
    username: str | None = "emma"


EMMA, STRANGER = Person(501, 501), Person(666, 666, "Mallory", "mal")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world() -> tuple[FakeStore, PrivateConversations, Clock, Playbook]:
    store, clock = FakeStore(), Clock()
    book = Playbook(
        load_conversation_texts, ZoneInfo("Europe/Copenhagen"), follow_up=lambda lang, token, author: "Sorted, thanks!"
    )
    return store, PrivateConversations(lambda: FakeUnitOfWork(store), book, clock), clock, book


def opened(store: FakeStore, token: str = "tok-1", *, publisher: str = "reddit", flags: tuple[Flag, ...] = ()) -> int:
    raw = RawMention(external_id=token, text="Nordlys lost my parcel", author="Emma")
    plan = IngestPlan("reddit", NOW, publisher)
    complaint = ComplaintPlan(token, Status.DRAFT_READY, NOW + timedelta(hours=1), "Thank you …")
    plan.mentions.append(MentionPlan(raw, Triage("en", Kind.COMPLAINT, flags, Severity.NORMAL, "delivery"), complaint))
    (cid,) = FakeUnitOfWork(store).complaints.record(plan).complaint_ids
    return cid


def to_promise(conv: PrivateConversations, cid: int, update: int) -> None:
    """Emma answers the questions and confirms; Anna offers a refund; Emma takes it (a promise)."""
    for n, text in enumerate(("48213", "Monday", "It never came"), update):
        conv.customer_text(EMMA, CustomerText(text), n)
    conv.customer_button(EMMA, cid, "summary:yes", update + 3)
    conv.staff_step(cid, OptionsProposed(("Refund",)), ANNA, update + 4)
    conv.customer_button(EMMA, cid, "choosing:0", update + 5)


def test_the_first_person_to_open_a_link_owns_it(
    world: tuple[FakeStore, PrivateConversations, Clock, Playbook],
) -> None:
    store, conv, _clock, _book = world
    cid = opened(store)
    assert conv.bind("tok-1", EMMA, 1).status == "bound"
    assert conv.bind("tok-1", EMMA, 1).status == "duplicate"  # a redelivered update changes nothing
    assert conv.bind("tok-1", STRANGER, 2).status == "taken"
    assert conv.bind("tok-1", EMMA, 3).status == "again"
    assert conv.bind("no-such-token", EMMA, 4).status == "unknown"
    assert store.kinds(cid).count("customer_bound") == 1 and "link_refused" in store.kinds(cid)
    said = store.queued("say")
    assert said and all(m["chat_id"] == EMMA.chat_id for m in said)  # nothing ever goes to the stranger
    assert store.conversations[cid].customer_username == "emma" and store.cards[cid] > 1


def test_each_message_runs_the_playbook_and_is_applied_once(
    world: tuple[FakeStore, PrivateConversations, Clock, Playbook],
) -> None:
    store, conv, _clock, _book = world
    cid = opened(store)
    conv.bind("tok-1", EMMA, 1)
    before = len(store.queued("say"))
    assert conv.customer_text(EMMA, CustomerText("48213"), 2).status == "applied"
    assert conv.customer_text(EMMA, CustomerText("48213"), 2).status == "duplicate"
    assert len(store.queued("say")) == before + 1  # the next question, once
    assert store.kinds(cid).count("answered") == 1
    assert conv.customer_text(STRANGER, CustomerText("hello"), 3).status == "none"
    status = conv.status_of(EMMA.user_id)
    assert status is not None and status[0] == cid


def test_writing_without_a_link_opens_a_private_complaint(
    world: tuple[FakeStore, PrivateConversations, Clock, Playbook],
) -> None:
    store, conv, _clock, _book = world
    replied = conv.open_private(EMMA, CustomerText("My Nordlys order is late"), TRIAGE, 9)
    assert replied.status == "opened" and replied.complaint_id is not None
    c = store.complaints[replied.complaint_id]
    assert c.source == "telegram_private" and c.status == Status.PRIVATE.value and c.first_response_at == NOW
    assert conv.open_private(EMMA, CustomerText("again"), TRIAGE, 10).status == "busy"


def test_a_missed_promise_brings_an_apology_a_new_time_and_an_alert_once(
    world: tuple[FakeStore, PrivateConversations, Clock, Playbook],
) -> None:
    store, conv, clock, book = world
    cid = opened(store)
    conv.bind("tok-1", EMMA, 1)
    assert conv.slip_reason(cid, "nothing open yet", ANNA, 2).status == "ignored"
    to_promise(conv, cid, 3)  # "you will hear from us by …": a promise
    (promise,) = store.promises
    assert conv.slip_reason(cid, "the warehouse is closed", ANNA, 20).status == "applied"
    assert check_promises(FakeUnitOfWork(store), book, promise.due - timedelta(minutes=5)) == 1  # reminded
    assert check_promises(FakeUnitOfWork(store), book, promise.due - timedelta(minutes=1)) == 0
    assert len(store.queued("remind")) == 1
    clock.now = promise.due + timedelta(minutes=1)
    assert check_promises(FakeUnitOfWork(store), book, clock.now) == 1
    assert check_promises(FakeUnitOfWork(store), book, clock.now) == 0  # missed once
    assert store.kinds(cid).count("promise_overdue") == 1
    assert any("warehouse" in m["text"] for say in store.queued("say") for m in say["messages"])
    assert promise.missed_at == clock.now and store.promises[-1].due > clock.now  # a new time


def test_a_satisfied_customer_answered_in_public_brings_a_follow_up(
    world: tuple[FakeStore, PrivateConversations, Clock, Playbook],
) -> None:
    store, conv, _clock, _book = world
    cid = opened(store)
    store.complaints[cid].status = Status.PUBLISHED.value
    FakeUnitOfWork(store).events.add(cid, "published", "reclaim", {}, NOW)
    conv.bind("tok-1", EMMA, 1)
    to_promise(conv, cid, 2)
    assert conv.staff_step(cid, Resolved("refund sent"), ANNA, 8).status == "applied"
    assert all(p.kept_at is not None for p in store.promises)  # the owner came back in time
    assert conv.customer_button(EMMA, cid, "satisfaction:5", 9).status == "applied"
    c = store.complaints[cid]
    assert c.status == Status.CLOSED.value and c.follow_up == "proposed"
    assert [d.text for d in store.drafts if d.purpose == "follow_up"] == ["Sorted, thanks!"]


def test_after_forget_nothing_reaches_the_customer(
    world: tuple[FakeStore, PrivateConversations, Clock, Playbook],
) -> None:
    store, conv, _clock, _book = world
    cid = opened(store)
    conv.bind("tok-1", EMMA, 1)
    conv.customer_text(EMMA, CustomerText("48213"), 5)  # the next question is queued, not yet sent
    assert [r.status for r in store.outbox.values() if r.kind == "say"][-1] == "pending"
    assert conv.forget(EMMA.user_id) == 1
    assert all(r.status == "cancelled" for r in store.outbox.values() if r.kind in ("say", "relay"))
    sent = len(store.queued("say"))
    assert conv.owner_says(cid, "Are you there?", ANNA, 2).status == "forgotten"
    assert conv.staff_step(cid, Resolved("done"), ANNA, 3).status == "forgotten"
    assert len(store.queued("say")) == sent
