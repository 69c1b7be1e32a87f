"""Replies published by policy: working hours (core/respond.py), the rules that never publish
(legal threats, manager requests, profanity, critical, taken), the delay that restarts at a staff
action, and the service that queues the reply once (services/policy.py) on the in-memory journal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.inbox import Action, Staff
from core.lifecycle import Status
from core.model import Flag
from core.respond import Candidate, Policy, WorkingHours, due, refusal
from services.policy import PolicyDesk
from services.staff import StaffInbox
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.unit.test_conversation_service import NOW, Clock, opened

CPH = ZoneInfo("Europe/Copenhagen")
HOURS = WorkingHours.parse(CPH, {"mon-fri": "09:00-17:00", "sat": "10:00-12:00, 13:00-14:00"})
POLICY = Policy(HOURS, timedelta(minutes=15), timedelta(minutes=2), frozenset({"reddit"}),
                frozenset({"low", "normal"}), frozenset({"en", "da"}))  # fmt: skip
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=CPH)  # 09:00 UTC: NOW in the conversation tests


def test_working_hours_per_day_in_the_zone() -> None:
    assert HOURS.open_at(MONDAY_10)
    assert not HOURS.open_at(datetime(2026, 11, 23, 17, 0, tzinfo=CPH))  # the end is not in
    assert HOURS.open_at(datetime(2026, 11, 23, 15, 59, tzinfo=UTC))  # 16:59 in Copenhagen
    assert not HOURS.open_at(datetime(2026, 11, 23, 16, 0, tzinfo=UTC))  # 17:00 there
    assert HOURS.open_at(datetime(2026, 11, 28, 11, 30, tzinfo=CPH))  # Saturday morning
    assert not HOURS.open_at(datetime(2026, 11, 28, 12, 30, tzinfo=CPH))  # Saturday lunch
    assert not HOURS.open_at(datetime(2026, 11, 29, 11, 0, tzinfo=CPH))  # Sunday is left out: closed
    assert WorkingHours(UTC).open_at(MONDAY_10)  # no hours at all: always at work
    late = WorkingHours.parse(UTC, {"fri": "18:00-24:00"})
    assert late.open_at(datetime(2026, 11, 27, 23, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"mon": "9-17"}, "09:00-17:00"),
        ({"mon": "17:00-09:00"}, "ends after it starts"),
        ({"monday": "09:00-17:00"}, "not a day"),
        ({"fri-mon": "09:00-17:00"}, "week order"),
        ({"mon": "09:00-25:00"}, "not a time of day"),
    ],
)
def test_hours_people_get_wrong_are_named(table: dict[str, str], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        WorkingHours.parse(UTC, table)


def _candidate(**kw: object) -> Candidate:
    base: dict[str, object] = {
        "kind": "complaint", "open": True, "owner_id": None, "publisher": "reddit", "source": "reddit",
        "severity": "low", "language": "en", "flags": (), "has_draft": True, "quiet_since": NOW,
    }  # fmt: skip
    return Candidate(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"flags": ("legal_threat",)}, "legal_threat"),
        ({"flags": ("manager_request",)}, "manager_request"),
        ({"flags": ("profanity",)}, "profanity"),
        ({"severity": "critical"}, "critical"),
        ({"owner_id": 7}, "taken"),
        ({"open": False}, "not_open"),
        ({"publisher": "manual"}, "no_reply_api"),
        ({"source": "news"}, "source"),
        ({"severity": "high"}, "severity"),
        ({"language": "ru"}, "language"),
        ({"kind": "question"}, "not_a_complaint"),
        ({"has_draft": False}, "no_draft"),
    ],
)
def test_what_is_never_published_by_policy(change: dict[str, object], reason: str) -> None:
    c = _candidate(**change)
    assert refusal(POLICY, c) == reason
    assert not due(POLICY, c, NOW + timedelta(days=3))


def test_the_delay_that_applies_is_judged_now() -> None:
    c = _candidate()
    assert not due(POLICY, c, NOW + timedelta(minutes=14))  # Monday 10:14 in Copenhagen: 15 minutes
    assert due(POLICY, c, NOW + timedelta(minutes=15))
    evening = _candidate(quiet_since=datetime(2026, 11, 23, 20, 0, tzinfo=CPH))
    assert not due(POLICY, evening, datetime(2026, 11, 23, 20, 1, 59, tzinfo=CPH))
    assert due(POLICY, evening, datetime(2026, 11, 23, 20, 2, tzinfo=CPH))  # outside hours: 2 minutes


def _desk(store: FakeStore, clock: Clock) -> PolicyDesk:
    return PolicyDesk(lambda: FakeUnitOfWork(store), POLICY, clock)


def test_an_untouched_complaint_is_queued_once_with_its_draft_and_the_log_says_so() -> None:
    store, clock = FakeStore(), Clock()
    cid = opened(store)
    desk = _desk(store, clock)
    clock.now = NOW + timedelta(minutes=14)
    assert desk.run() == []
    clock.now = NOW + timedelta(minutes=15)
    assert desk.run() == [cid]
    assert desk.run() == []  # approved: not again
    c = store.complaints[cid]
    assert c.status == Status.APPROVED.value and c.owner_id is None
    (row,) = [r for r in store.outbox.values() if r.kind == "publish"]
    assert row.key == f"publish:{cid}" and row.payload["text"] == "Thank you …"
    (event,) = [e for e in store.events if e.kind == "approved_by_policy"]
    assert event.actor == "policy" and event.data["after"] == "15m" and event.data["in_hours"] is True
    assert store.cards[cid] > 1  # the card is redrawn: "published by policy"


def test_a_staff_action_restarts_the_delay_and_taking_it_stops_the_policy() -> None:
    store, clock = FakeStore(), Clock()
    cid = opened(store)
    staff = StaffInbox(lambda: FakeUnitOfWork(store), clock=clock)
    desk = _desk(store, clock)
    clock.now = NOW + timedelta(minutes=10)
    staff.edit_draft(cid, Staff(7, "Anna"), "Thank you, Emma, and sorry: we are on it.")
    clock.now = NOW + timedelta(minutes=20)
    assert desk.run() == []  # ten minutes since Anna's edit
    clock.now = NOW + timedelta(minutes=25)
    assert desk.run() == [cid]
    assert store.outbox[f"publish:{cid}"].payload["text"] == "Thank you, Emma, and sorry: we are on it."
    taken = opened(store, "tok-2")
    staff.act(taken, Action.TAKE, Staff(8, "Bob"), None, 5)
    clock.now = NOW + timedelta(days=2)
    assert desk.run() == [] and desk.refusal(taken) == "taken"
    assert store.complaints[taken].status == Status.DRAFT_READY.value


def test_a_legal_threat_waits_for_a_person_however_long() -> None:
    store, clock = FakeStore(), Clock()
    cid = opened(store, flags=(Flag.LEGAL_THREAT,))
    clock.now = NOW + timedelta(days=30)
    desk = _desk(store, clock)
    assert desk.run() == [] and desk.refusal(cid) == "legal_threat"
    assert not [r for r in store.outbox.values() if r.kind == "publish"]


def test_a_backlog_older_than_max_age_waits_for_a_person() -> None:
    store, clock = FakeStore(), Clock()
    cid = opened(store)
    clock.now = NOW + timedelta(days=1, minutes=1)  # switched on after a long stop: no burst of old replies
    desk = _desk(store, clock)
    assert desk.run() == [] and store.complaints[cid].status == Status.DRAFT_READY.value
    assert not due(POLICY, _candidate(), NOW + timedelta(days=1, seconds=1))


def test_pressing_edit_counts_as_a_staff_action() -> None:
    store, clock = FakeStore(), Clock()
    cid = opened(store)
    staff = StaffInbox(lambda: FakeUnitOfWork(store), clock=clock)
    clock.now = NOW + timedelta(minutes=10)
    assert staff.act(cid, Action.EDIT, Staff(7, "Anna"), None, 3).ask == "edit_text"
    staff.add_prompt(-100, 55, cid, 7, "edit_text")  # the bot asks Anna for the text
    clock.now = NOW + timedelta(minutes=20)
    assert _desk(store, clock).run() == []  # she is writing: ten minutes since she pressed Edit


def test_max_age_counts_from_when_the_author_posted() -> None:
    store, clock = FakeStore(), Clock()
    cid = opened(store)  # a new source's first read finds a post a month old
    mention = store.mentions[store.complaints[cid].mention_id]
    mention.published_at = NOW - timedelta(days=30)
    clock.now = NOW + timedelta(minutes=20)
    desk = _desk(store, clock)
    assert desk.run() == [] and store.complaints[cid].status == Status.DRAFT_READY.value


def test_pressing_reject_counts_as_a_staff_action() -> None:
    store, clock = FakeStore(), Clock()
    cid = opened(store)
    staff = StaffInbox(lambda: FakeUnitOfWork(store), clock=clock)
    clock.now = NOW + timedelta(minutes=14)
    assert staff.act(cid, Action.REJECT, Staff(7, "Anna"), None, 4).ask == "reject_reason"  # choosing a reason
    clock.now = NOW + timedelta(minutes=16)
    assert _desk(store, clock).run() == []


def test_a_complaint_that_came_in_overnight_gets_the_teams_after_once_the_office_opens() -> None:
    long_night = Policy(HOURS, timedelta(minutes=15), timedelta(hours=12), frozenset({"reddit"}),
                        frozenset({"low", "normal"}), frozenset({"en"}))  # fmt: skip
    night = _candidate(quiet_since=datetime(2026, 11, 24, 3, 0, tzinfo=CPH))  # Tuesday 03:00
    assert not due(long_night, night, datetime(2026, 11, 24, 9, 0, tzinfo=CPH))  # not at opening
    assert not due(long_night, night, datetime(2026, 11, 24, 9, 14, tzinfo=CPH))
    assert due(long_night, night, datetime(2026, 11, 24, 9, 15, tzinfo=CPH))


def test_one_reply_by_policy_per_author_the_rest_wait_for_a_person() -> None:
    store, clock = FakeStore(), Clock()
    first, second = opened(store, "tok-1"), opened(store, "tok-2")  # both by Emma on the same source
    clock.now = NOW + timedelta(minutes=15)
    desk = _desk(store, clock)
    assert desk.run() == [first]
    assert desk.refusal(second) == "author_answered" and desk.run() == []
