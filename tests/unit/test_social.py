"""The pure parts of the social channels: Reddit things and Telegram group messages as mentions,
Reddit cursors and listings, the request budget (on a fake clock), Reddit's "take a break"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from responders.publishing import break_for
from watchers import reddit as rd
from watchers import reddit_api
from watchers.reddit import Cursor, listings, to_mention, to_mentions
from watchers.reddit_api import BudgetSession
from watchers.telegram_group import to_mention as group_mention


def thing(kind: str, **data: Any) -> dict[str, Any]:
    base = {"id": "abc", "name": f"{kind}_abc", "author": "kim", "created_utc": 1_700_000_000.0, "subreddit": "nordlys"}
    return {"kind": kind, "data": {**base, **data}}


def test_a_comment_without_a_permalink_gets_one_and_the_thread_title() -> None:
    m = to_mention(thing("t1", body="Nordlys  never\nanswered", link_id="t3_xyz", link_title="Nordlys lost my coat"))
    assert m is not None
    assert m.url == "https://www.reddit.com/r/nordlys/comments/xyz/_/abc/"
    assert m.text == "Nordlys never answered" and m.title == "Re: Nordlys lost my coat"
    assert m.origin is not None and m.origin["thing"] == "t1_abc" and m.origin["link_id"] == "t3_xyz"


@pytest.mark.parametrize("body", ["[deleted]", "[removed]"])
def test_deleted_and_removed_things_are_not_mentions(body: str) -> None:
    assert to_mention(thing("t1", body=body, link_id="t3_x")) is None
    assert to_mention({"kind": "t5", "data": {"id": "x"}}) is None


def test_our_own_account_and_ignored_authors_are_skipped_case_blind() -> None:
    things = [
        thing("t3", id="a", name="t3_a", title="Nordlys?", author="Nordlys_Care"),
        thing("t3", id="b", name="t3_b", title="Nordlys!", author="AutoModerator"),
        thing("t3", id="c", name="t3_c", title="Nordlys.", author="kim", created_utc=1.0),
        thing("t3", id="d", name="t3_d", title="Nordlys:", author="lee", created_utc=2.0),
    ]
    found = to_mentions(things, own="nordlys_care", ignore=["automoderator"])
    assert [m.external_id for m in found] == ["t3_c", "t3_d"]  # oldest first


def test_a_cursor_knows_what_it_saw_and_what_is_long_past() -> None:
    c = Cursor().advance([thing("t3", name="t3_a", created_utc=10_000.0)])
    assert c.is_known({"name": "t3_a", "created_utc": 10_000.0})
    assert not c.is_known({"name": "t3_b", "created_utc": 9_000.0})  # shown late: within the slack
    assert c.is_known({"name": "t3_old", "created_utc": 10_000.0 - rd.SLACK - 1})
    again = Cursor.from_json(c.to_json())
    assert again is not None and again.seen == ["t3_a"] and again.newest == 10_000.0


def test_many_subreddits_are_read_fifty_at_a_time() -> None:
    subs = [f"s{i}" for i in range(120)]
    paths = [path for _key, path, _ in listings(subs, "nordlys", True, False)]
    assert len(paths) == 4 and paths[-1] == "r/all/search"
    assert paths[0] == "r/" + "+".join(subs[:50]) + "/new" and paths[2].startswith("r/s100+")


def test_the_budget_never_lets_more_through_in_any_window(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(reddit_api.time, "sleep", lambda s: now.__setitem__(0, now[0] + s))
    session = BudgetSession(5, clock=lambda: now[0])
    times = []
    for _ in range(23):
        session.wait_turn()
        times.append(now[0])
    assert session.total == 23
    assert max(sum(1 for u in times if t <= u < t + 60.0) for t in times) == 5
    assert times[5] == pytest.approx(60.0 + reddit_api.MARGIN)


@pytest.mark.parametrize(
    ("message", "seconds"),
    [
        ("Looks like you've been doing that a lot. Take a break for 3 minutes before trying again.", 181),
        ("Take a break for 9 seconds before trying again.", 10),
        ("you are doing that too much. try again in 1 hour.", 3601),
        ("Take a break for 500 milliseconds", 2),
    ],
)
def test_reddit_break_times_are_read(message: str, seconds: int) -> None:
    assert break_for(message) == timedelta(seconds=seconds)


def group_message(**extra: Any) -> dict[str, Any]:
    chat = {"id": -1001000000077, "type": "supergroup", "title": "Nordlys fans"}
    return {"message_id": 5, "date": 1_700_000_000, "chat": chat, "from": {"id": 9, "first_name": "Kim"}, **extra}


def test_a_group_message_is_a_mention_that_knows_where_to_answer() -> None:
    m = group_mention(group_message(text="Nordlys never <b>answers</b>", is_topic_message=True, message_thread_id=3))
    assert m is not None and m.external_id == "-1001000000077:5" and m.author == "Kim" and m.title is None
    assert m.url == "https://t.me/c/1000000077/5"
    assert m.origin == {
        "platform": "telegram",
        "chat_id": -1001000000077,
        "message_id": 5,
        "chat_title": "Nordlys fans",
        "thread_id": 3,
    }


@pytest.mark.parametrize(
    "extra",
    [
        {"text": "Nordlys news", "sender_chat": {"id": -100999, "type": "channel"}, "is_automatic_forward": True},
        {"text": "Nordlys", "from": {"id": 1, "is_bot": True, "first_name": "Reclaim"}},
        {"text": "/start@nordlys_care_bot"},
        {"new_chat_members": [{"id": 3}]},
    ],
)
def test_channel_posts_bots_commands_and_service_messages_are_not(extra: dict[str, Any]) -> None:
    assert group_mention(group_message(**extra)) is None
