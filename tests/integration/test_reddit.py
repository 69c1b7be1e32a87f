"""Reddit with the real praw against the local Reddit API server, whose listings are Reddit's own
recorded JSON (../shared/fixtures/reddit-cassettes): the recorded listings become mentions with
their permalinks, authors, scores and times, once, across polls; the account's own comments
are never read back; new items are found where the last poll stopped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from sandbox.reddit import RedditServer
from storage.tables import Complaint, Mention, SourceState
from tests.conftest import poll_all, shared_fixture


@pytest.fixture
def reddit(monkeypatch: pytest.MonkeyPatch) -> Iterator[RedditServer]:
    with RedditServer() as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        yield server


def reddit_settings(server: RedditServer, **extra: Any) -> dict[str, Any]:
    return {
        "oauth_url": server.url,
        "reddit_url": server.url,
        "user_agent": "python:reclaim-tests:1 (by /u/test)",
        **extra,
    }


def recorded(name: str) -> list[dict[str, Any]]:
    data = json.loads(shared_fixture("reddit-cassettes", name).read_text(encoding="utf-8"))
    body = next(i["response"]["body"]["string"] for i in data["interactions"] if i["request"]["method"] == "GET")
    return list(json.loads(body)["data"]["children"])


def test_recorded_listings_become_mentions_once_and_polling_resumes(
    db_url: str, reddit: RedditServer, make_app: Any
) -> None:
    new, comments = (
        recorded("TestSubredditListings.test_new.json"),
        recorded("TestSubredditListings.test_comments.json"),
    )
    source = {"name": "askreddit", "kind": "reddit", "subreddits": ["AskReddit"], "match": "all", "every": "1m"}
    app = make_app(db_url, [source], reddit=reddit_settings(reddit))

    first = poll_all(app)[0]
    assert first.ok, first.error
    with app.sessions() as s:
        mentions = {m.external_id: m for m in s.scalars(select(Mention))}
    live = [
        c
        for c in new + comments
        if (c["data"].get("body") or c["data"].get("title")) not in ("[deleted]", "[removed]")
        and c["data"]["author"] != "AutoModerator"  # ignored by default, like our own account
    ]
    assert len(live) > 190
    assert set(mentions) == {c["data"]["name"] for c in live}
    sub = next(c["data"] for c in new if c["data"]["selftext"] or c["data"]["title"])
    m = mentions[sub["name"]]
    assert m.url == "https://www.reddit.com" + sub["permalink"] and m.author == sub["author"]
    assert m.published_at == datetime.fromtimestamp(sub["created_utc"], UTC)
    assert m.origin is not None and m.origin["score"] == sub["score"] and m.origin["subreddit"] == "AskReddit"
    com = next(c["data"] for c in comments if c["data"]["body"] not in ("[deleted]", "[removed]"))
    assert (
        mentions[com["name"]].url == f"https://www.reddit.com/r/AskReddit/comments/{com['link_id'][3:]}/_/{com['id']}/"
    )
    assert mentions[com["name"]].text == " ".join(com["body"].split())

    before = reddit.calls("/r/")
    again = poll_all(app)[0]
    assert again.ok and again.added == 0
    assert reddit.calls("/r/") - before == 2  # one page of new, one of comments: it stopped where it was

    fresh = reddit.add_submission("AskReddit", "What is the best winter coat?", "Asking for a friend.")
    third = poll_all(app)[0]
    assert third.added == 1
    with app.sessions() as s:
        assert s.scalar(select(Mention.external_id).order_by(Mention.id.desc()).limit(1)) == fresh
        cursor = s.get(SourceState, "askreddit")
        assert cursor is not None and cursor.cursor is not None and fresh in cursor.cursor["new"]["seen"]


def test_a_site_search_reads_the_recorded_results(db_url: str, reddit: RedditServer, make_app: Any) -> None:
    results = recorded("TestSubreddit.test_search.json")
    source = {"name": "search", "kind": "reddit", "search": "praw oauth search", "match": "all"}
    app = make_app(db_url, [source], reddit=reddit_settings(reddit))
    outcome = poll_all(app)[0]
    assert outcome.ok and outcome.added == len(results)


def test_brand_posts_become_complaints_and_our_own_comments_never_do(
    db_url: str, reddit: RedditServer, make_app: Any
) -> None:
    post = reddit.add_submission("nordlys", "Nordlys lost my order", "Three weeks, no parcel, no answer. Awful.", "kim")
    reddit.add_comment(post, "Sorry to hear that! Nordlys customer care here.", author=reddit.username)
    reddit.add_comment(post, "Nordlys: please read the rules.", author="AutoModerator")
    reddit.add_comment(post, "Same with my Nordlys order, never arrived and support ignores me", author="lee")
    other = reddit.add_submission("denmark", "Best bakery in Aarhus?", "Recommendations welcome")
    source = {"name": "reddit", "kind": "reddit", "subreddits": ["nordlys", "denmark"]}
    app = make_app(db_url, [source], reddit=reddit_settings(reddit))
    outcome = poll_all(app)[0]
    assert outcome.ok, outcome.error
    with app.sessions() as s:
        authors = sorted(str(m.author) for m in s.scalars(select(Mention)))
        complaints = list(s.scalars(select(Complaint)))
        ids = set(s.scalars(select(Mention.external_id)))
    assert authors == ["kim", "lee"] and other not in ids
    assert len(complaints) == 2 and {c.publisher for c in complaints} == {"reddit"}
    assert reddit.calls("/r/nordlys+denmark/") == 2  # both subreddits in one request per listing


def test_a_broken_subreddit_is_reported_and_the_others_keep_working(
    db_url: str, reddit: RedditServer, make_app: Any
) -> None:
    reddit.add_submission("nordlys", "Nordlys never delivered", "Terrible service, still no parcel", "kim")
    sources = [
        {"name": "good", "kind": "reddit", "subreddits": ["nordlys"]},
        {"name": "bad", "kind": "reddit", "search": "x", "submissions": True},
    ]
    app = make_app(db_url, sources, reddit=reddit_settings(reddit))
    reddit.fail_paths = {"/r/all/search": 503}
    outcomes = {o.source: o for o in poll_all(app)}
    assert outcomes["good"].ok and outcomes["good"].added == 1
    assert not outcomes["bad"].ok and "503" in str(outcomes["bad"].error)
    with app.sessions() as s:
        state = s.get(SourceState, "bad")
        assert state is not None and state.consecutive_failures == 1 and state.next_attempt_at is not None
