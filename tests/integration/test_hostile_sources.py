"""Sources built to hurt: a feed that trickles a byte every two seconds, a gzip bomb, a redirect
loop, a 20 MB page and review items nested 1,000 deep. Each fails with a clear error (or parses
quickly) and is backed off, while a healthy source in the same poll is ingested, even with one
fetch at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from reclaim.app import App
from reclaim.poller import Outcome, Poller
from sandbox.hostile import HostileServer
from sandbox.sites import Page, SiteServer
from storage.tables import SourceState
from tests.integration.test_poll import ITEMS, feed

STOCK = {"item": "div.review", "id": "::attr(data-review-id)", "title": "h3.review-title", "text": "div.review-body",
         "author": "span.user", "link": "h3.review-title a::attr(href)", "published": "time::attr(datetime)"}  # fmt: skip


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer(trickle_for=60) as server:
        yield server


def poll_within(app: App, seconds: float) -> dict[str, Outcome]:
    """One poll, which must end by itself: the test gives up (and fails) after ``seconds``."""

    async def go() -> list[Outcome]:
        poller = Poller(app)
        try:
            return await asyncio.wait_for(poller.poll(app.settings.sources), seconds)
        finally:
            await poller.aclose()

    return {o.source: o for o in asyncio.run(go())}


def test_a_trickling_source_is_a_timeout_and_the_others_go_on(
    db_url: str, site: SiteServer, hostile: HostileServer, make_app: Any
) -> None:
    good = site.add("/feed.xml", Page(feed(*ITEMS)))
    app = make_app(
        db_url,
        [
            {"name": "trickle", "kind": "rss", "url": hostile.url("/trickle"), "timeout": "3s"},
            {"name": "good", "kind": "rss", "url": good},
        ],
        polling={"retries": 2, "workers": 0, "concurrency": 1},  # retries as configured by default
    )
    outcomes = poll_within(app, 30)  # before: the trickle held the poll for as long as it trickled
    assert outcomes["good"].ok and outcomes["good"].added == 3
    trickle = outcomes["trickle"]
    assert not trickle.ok and trickle.error == "no complete answer within 3s (the whole fetch)"
    assert hostile.requests["/trickle"] == 1  # not tried again in the same poll: backed off instead
    with app.sessions() as s:
        state = s.get(SourceState, "trickle")
        assert state is not None and state.consecutive_failures == 1 and state.next_attempt_at is not None


def test_an_unchanged_source_is_recorded_even_if_the_poll_is_stopped_before_its_end(
    db_url: str, site: SiteServer, hostile: HostileServer, make_app: Any
) -> None:
    """A poll's 304s are written together, but not only at the end: a poll stopped while a slow
    source still trickles (Ctrl-C, a kill) has recorded the unchanged ones it had."""
    good = site.add("/feed.xml", Page(feed(*ITEMS)))
    sources = [{"name": "good", "kind": "rss", "url": good}]
    app = make_app(db_url, sources)
    poll_within(app, 30)
    with app.sessions() as s:
        first = s.get(SourceState, "good").last_polled_at
    slow = make_app(
        db_url, [*sources, {"name": "trickle", "kind": "rss", "url": hostile.url("/trickle"), "timeout": "30s"}]
    )

    async def stopped() -> None:
        poller = Poller(slow)
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(poller.poll(slow.settings.sources), 3)
        finally:
            await poller.aclose()

    asyncio.run(stopped())
    with slow.sessions() as s:
        state = s.get(SourceState, "good")
        assert state.last_status == 304 and state.last_polled_at > first


def test_bombs_loops_huge_pages_and_deep_nesting(
    db_url: str, site: SiteServer, hostile: HostileServer, make_app: Any
) -> None:
    good = site.add("/feed.xml", Page(feed(*ITEMS)))
    html = {"kind": "html", "selectors": STOCK, "max_bytes": 10_000_000, "timeout": "10s"}
    app = make_app(
        db_url,
        [
            {"name": "bomb", "url": hostile.url("/bomb"), **html},
            {"name": "loop", "kind": "rss", "url": hostile.url("/loop")},
            {"name": "huge", "url": hostile.url("/huge"), **html},
            {"name": "nested", "url": hostile.url("/nested"), **html},
            {"name": "good", "kind": "rss", "url": good},
        ],
        polling={"retries": 0, "workers": 0, "concurrency": 2},
    )
    outcomes = poll_within(app, 60)
    assert outcomes["good"].ok and outcomes["good"].added == 3
    assert not outcomes["bomb"].ok and "larger than the limit of 10000000 bytes" in (outcomes["bomb"].error or "")
    assert not outcomes["loop"].ok and outcomes["loop"].error == "more than 5 redirects"
    assert not outcomes["huge"].ok and "larger than the limit" in (outcomes["huge"].error or "")
    nested = outcomes["nested"]
    assert nested.ok and nested.items == 1000 and nested.added == 1000, nested


def test_a_worker_process_is_freed_at_the_parse_deadline_even_inside_one_long_step(
    db_url: str, site: SiteServer, make_app: Any
) -> None:
    """Building the tree of a big page is one long step no check can interrupt; in a worker
    process a timer signal ends it at parse_timeout (+0.5 s) instead of when it is done."""
    import time

    from bs4 import BeautifulSoup

    body = b"<html><body>" + b'<div class="review"><p>Nordlys x</p></div>' * 150_000 + b"</body></html>"
    started = time.process_time()
    BeautifulSoup(body.decode(), "lxml")  # the baseline: how long the tree alone takes here
    tree = time.process_time() - started
    url = site.add("/big.html", Page(body, "text/html"))
    app = make_app(
        db_url,
        [
            {
                "name": "big",
                "kind": "html",
                "url": url,
                "parse_timeout": "0.2s",
                "selectors": {"item": "div.review", "text": "p"},
            }
        ],
        polling={"retries": 0, "workers": 1},
    )

    async def go() -> tuple[Outcome, float]:
        poller = Poller(app)
        try:
            await poller.warm_up()
            began = time.monotonic()
            (outcome,) = await poller.poll(app.settings.sources)
            return outcome, time.monotonic() - began
        finally:
            await poller.aclose()

    outcome, took = asyncio.run(go())
    assert not outcome.ok and outcome.error == "parsing took longer than 0.2s (parse_timeout)"
    assert took < tree / 2, (took, tree)  # stopped well before the tree was built
