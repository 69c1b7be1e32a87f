"""The full path over a local HTTP server and a real database: poll → parse → triage → store → draft."""

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from reclaim.app import App
from reclaim.poller import Poller
from sandbox.sites import Page, SiteServer
from storage import queries
from storage.tables import Complaint, Draft, Event, Mention, SourceState
from tests.conftest import poll_all as poll


def feed(*items: tuple[str, str, str]) -> bytes:
    body = "".join(
        f"<item><guid>{gid}</guid><title>{title}</title><link>/p/{gid}</link>"
        f"<description><![CDATA[{text}]]></description></item>"
        for gid, title, text in items
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()


ITEMS = [
    ("1", "Nordlys order never arrived", "Three weeks and <b>nothing</b>. I want my money back."),
    ("2", "Nordlys is great", "Fantastic quality, fast delivery, thank you!"),
    ("3", "Weather today", "Sunny in Bergen, nothing about shops."),
    ("4", "Заказ в Нордлис", "Заказ так и не пришёл, позовите руководителя!"),
]


def count(app: App, table: Any) -> int:
    with app.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_poll_stores_mentions_complaints_drafts_and_events(db_url: str, site: SiteServer, make_app: Any) -> None:
    url = site.add("/feed.xml", Page(feed(*ITEMS)))
    app = make_app(db_url, [{"name": "blog", "kind": "rss", "url": url}])
    (outcome,) = poll(app)
    assert outcome.ok and outcome.items == 4 and outcome.added == 3 and outcome.complaints == 2
    with app.sessions() as s:
        mentions = queries.list_mentions(s)
        complaints = queries.list_complaints(s, link_base=app.link_base)
        kinds = {m["external_id"]: (m["kind"], m["language"]) for m in mentions}
        assert kinds == {"1": ("complaint", "en"), "2": ("praise", "en"), "4": ("complaint", "ru")}
        assert all(m["text"] and "<" not in m["text"] for m in mentions)
        ru = next(c for c in complaints if c["language"] == "ru")
        assert "manager_request" in ru["flags"]
        assert ru["status"] == "draft_ready" and ru["draft"]["status"] == "proposed"
        token = ru["private_link"].rsplit("=", 1)[1]
        assert ru["draft"]["text"].count(f"https://t.me/nordlys_care_bot?start={token}") == 1
        detail = queries.complaint_detail(s, ru["id"], link_base=app.link_base)
        assert detail is not None
        assert [e["kind"] for e in detail["events"]] == [
            "mention_detected",
            "complaint_opened",
            "draft_proposed",
        ]
        due = detail["first_response_due"]
        assert due > detail["created_at"]


def test_second_poll_is_conditional_and_adds_nothing(db_url: str, site: SiteServer, make_app: Any) -> None:
    url = site.add("/feed.xml", Page(feed(*ITEMS)))
    app = make_app(db_url, [{"name": "blog", "kind": "rss", "url": url}])
    poll(app)
    (again,) = poll(app)
    assert again.ok and again.not_modified and again.added == 0
    assert site.not_modified["/feed.xml"] == 1
    assert count(app, Mention) == 3


def test_unchanged_feeds_are_recorded_in_one_write(
    db_url: str, site: SiteServer, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-poll of many unchanged feeds (all 304) writes the health of those that came while
    the writer was busy in one transaction, not one each; every one is recorded as polled and
    well, and nothing else about it changes."""
    import time

    from sqlalchemy import event

    written = Poller._write_unchanged
    calls: list[int] = []

    def slow_first(self: Poller, names: list[str]) -> None:  # the writer is busy while the rest come
        calls.append(len(names))
        deadline = time.monotonic() + 10
        while len(calls) == 1 and len(names) + len(self._unchanged) < 12 and time.monotonic() < deadline:
            time.sleep(0.01)
        written(self, names)

    sources = [
        {"name": f"blog{i}", "kind": "rss", "url": site.add(f"/f{i}.xml", Page(feed(*ITEMS)))} for i in range(12)
    ]
    app = make_app(db_url, sources)
    poll(app)
    with app.sessions.begin() as s:  # one of them had failed meanwhile, say
        s.get(SourceState, "blog3").consecutive_failures = 2
    commits: list[int] = []
    event.listen(app.engine, "commit", lambda _conn: commits.append(1))
    monkeypatch.setattr(Poller, "_write_unchanged", slow_first)
    outcomes = poll(app)
    assert all(o.ok and o.not_modified for o in outcomes) and len(outcomes) == 12
    assert len(commits) <= 3 and sum(calls) == 12  # the validators read, the first 304s, then the rest (13 before)
    with app.sessions() as s:
        states = list(s.scalars(select(SourceState).order_by(SourceState.name)))
    assert {st.last_status for st in states} == {304} and {st.consecutive_failures for st in states} == {0}
    assert all(st.last_polled_at == st.last_success_at and st.etag for st in states)
    assert {st.mentions_added for st in states} == {3}


def test_a_failed_write_of_unchanged_sources_is_reported_not_raised(
    db_url: str, site: SiteServer, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services import ingest

    url = site.add("/feed.xml", Page(feed(*ITEMS)))
    app = make_app(db_url, [{"name": "blog", "kind": "rss", "url": url}])
    poll(app)

    def broken(*_args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest, "record_unchanged", broken)
    (outcome,) = poll(app)
    assert not outcome.ok and "could not record the poll" in (outcome.error or "")


def test_changed_feed_adds_only_new_items_even_without_validators(db_url: str, site: SiteServer, make_app: Any) -> None:
    site.add("/feed.xml", Page(feed(*ITEMS[:2]), conditional=False))
    app = make_app(db_url, [{"name": "blog", "kind": "rss", "url": site.url("/feed.xml")}])
    poll(app)
    site.add("/feed.xml", Page(feed(*reversed(ITEMS)), conditional=False))
    (o,) = poll(app)
    assert o.added == 1 and o.complaints == 1
    (o,) = poll(app)
    assert o.added == 0
    assert count(app, Mention) == 3 and count(app, Complaint) == 2 and count(app, Draft) == 2


def test_a_broken_source_is_reported_with_backoff_and_others_still_work(
    db_url: str, site: SiteServer, make_app: Any
) -> None:
    good = site.add("/feed.xml", Page(feed(*ITEMS)))
    app = make_app(
        db_url,
        [
            {"name": "gone", "kind": "rss", "url": site.url("/missing.xml")},
            {"name": "refused", "kind": "rss", "url": "http://127.0.0.1:9/feed.xml"},
            {
                "name": "broken-html",
                "kind": "html",
                "url": site.add("/x.html", Page(b"\x00\xff" * 50, "text/html")),
                "selectors": {"item": "div.review", "text": ""},
            },
            {"name": "good", "kind": "rss", "url": good},
        ],
    )
    outcomes = {o.source: o for o in poll(app)}
    assert outcomes["good"].ok and outcomes["good"].added == 3
    assert not outcomes["gone"].ok and outcomes["gone"].error == "HTTP 404 Not Found"
    assert not outcomes["refused"].ok and "connection failed" in (outcomes["refused"].error or "")
    assert outcomes["broken-html"].ok and outcomes["broken-html"].warnings
    poll(app)
    with app.sessions() as s:
        state = s.get(SourceState, "gone")
        assert state is not None and state.consecutive_failures == 2
        assert state.next_attempt_at is not None and state.last_error_at is not None
        assert (state.next_attempt_at - state.last_error_at).total_seconds() == 60
        ok = s.get(SourceState, "good")
        assert ok is not None and ok.consecutive_failures == 0 and ok.last_error is None


def test_retries_honour_retry_after_then_succeed(db_url: str, site: SiteServer, make_app: Any) -> None:
    site.add("/busy.xml", Page(b"slow down", "text/plain", status=429, headers={"Retry-After": "0"}))
    app = make_app(
        db_url,
        [{"name": "busy", "kind": "rss", "url": site.url("/busy.xml")}],
        polling={"retries": 2},
    )
    (o,) = poll(app)
    assert not o.ok and o.status == 429
    assert site.requests["/busy.xml"] == 3


def test_size_limit_is_a_clear_error(db_url: str, site: SiteServer, make_app: Any) -> None:
    url = site.add("/huge.html", Page(b"<p>" + b"x" * 50_000 + b"</p>", "text/html"))
    app = make_app(
        db_url,
        [
            {
                "name": "huge",
                "kind": "html",
                "url": url,
                "max_bytes": 10_000,
                "selectors": {"item": "p", "text": ""},
            }
        ],
    )
    (o,) = poll(app)
    assert not o.ok and "larger than the limit" in (o.error or "")


def test_recording_the_same_items_twice_never_duplicates(db_url: str, site: SiteServer, make_app: Any) -> None:
    """Two pollers (a restart racing a slow writer, or two processes) ingest the same feed."""
    url = site.add("/feed.xml", Page(feed(*ITEMS), conditional=False))
    app = make_app(db_url, [{"name": "blog", "kind": "rss", "url": url}])
    other = make_app(db_url, [{"name": "blog", "kind": "rss", "url": url}])

    async def both() -> None:
        p1, p2 = Poller(app), Poller(other)
        try:
            await asyncio.gather(p1.poll(app.settings.sources), p2.poll(other.settings.sources))
        finally:
            await p1.aclose()
            await p2.aclose()

    asyncio.run(both())
    assert count(app, Mention) == 3
    assert count(app, Complaint) == 2
    assert count(app, Event) == 6


@pytest.mark.parametrize("command", [["mentions", "list", "--json"], ["complaints", "list", "--json"]])
def test_json_listings_have_the_documented_keys(
    db_url: str,
    site: SiteServer,
    make_app: Any,
    tmp_path: Any,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    from reclaim.cli import main

    url = site.add("/feed.xml", Page(feed(*ITEMS)))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        json.dumps(
            {
                "brand": {"name": "Nordlys", "aliases": ["нордлис"]},
                "database": {"url": db_url},
                "telegram": {"bot_username": "nordlys_care_bot"},
                "sources": [{"name": "blog", "kind": "rss", "url": url}],
            }
        ),
        encoding="utf-8",
    )
    assert main(["--config", str(cfg), "poll", "--once"]) == 0
    capsys.readouterr()
    assert main(["--config", str(cfg), *command]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows
    if command[0] == "mentions":
        need = {
            "id",
            "source",
            "external_id",
            "url",
            "author",
            "title",
            "text",
            "language",
            "kind",
            "flags",
            "complaint_id",
        }
    else:
        need = {
            "id",
            "status",
            "language",
            "severity",
            "category",
            "mention_id",
            "created_at",
            "first_response_due",
            "private_link",
            "draft",
        }
        assert all(set(r["draft"]) >= {"text", "status"} for r in rows)
        cid = rows[0]["id"]
        assert main(["--config", str(cfg), "complaints", "show", str(cid), "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["id"] == cid and shown["events"]
    assert all(need <= set(r) for r in rows)


def test_poll_exit_code_names_failed_sources(
    db_url: str, site: SiteServer, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from reclaim.cli import main

    url = site.add("/feed.xml", Page(feed(*ITEMS)))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        json.dumps(
            {
                "brand": {"name": "Nordlys"},
                "database": {"url": db_url},
                "polling": {"retries": 0},
                "sources": [
                    {"name": "blog", "kind": "rss", "url": url},
                    {"name": "dead", "kind": "rss", "url": site.url("/nope.xml")},
                ],
            }
        ),
        encoding="utf-8",
    )
    assert main(["--config", str(cfg), "poll", "--once"]) == 3
    out = capsys.readouterr().out
    assert "dead: FAILED HTTP 404" in out and "blog: ok http-200" in out and "failed: dead" in out
    assert main(["--config", str(cfg), "poll", "--once", "--source", "blog"]) == 0
    assert main(["--config", str(cfg), "poll", "--once", "--source", "nosuch"]) == 2
