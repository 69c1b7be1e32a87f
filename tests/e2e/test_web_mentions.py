"""The dashboard's Mentions page in Chromium: the lane's waiting mentions with filters by kind,
language and "unsure" and a search box; Answer opens a case whose draft is the FAQ's answer,
It's a complaint opens a complaint, Ignore hides the mention; what a customer wrote is shown as
text, never as markup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import async_playwright
from sqlalchemy import select

from reclaim.scheduler import Runner
from sandbox.sites import Page, SiteServer
from storage.tables import Complaint, Mention
from storage.tables_triage import Label
from tests.e2e.test_web import CHROMIUM, PASSWORD, chromium, free_port, log_in  # noqa: F401
from tests.integration.test_poll import feed


@pytest.fixture
async def dashboard(db_url: str, site: SiteServer, make_app: Any) -> AsyncIterator[tuple[Any, str]]:
    site.add("/feed.xml", Page(feed(
        ("1", "Nordlys shipping", "Do you ship to Iceland?"),
        ("2", "Nordlys coat", "The new Nordlys coat is lovely, thank you!"),
        ("3", "Nordlys locker", "The Nordlys locker at Norreport stays shut &lt;script&gt;alert(1)&lt;/script&gt;"),
    )))  # fmt: skip
    port = free_port()
    app = make_app(
        db_url,
        [{"name": "community", "kind": "rss", "url": site.url("/feed.xml"), "every": "1h"}],
        polling={"retries": 0, "workers": 0, "jitter": "0s"},
        web={"enabled": True, "listen": f"127.0.0.1:{port}"},
    )
    app.accounts.add("anna", PASSWORD, "staff", telegram_id=111)
    app.faq.add("Do you ship to Iceland?", "Yes, to Iceland in 3 to 5 days.", "en", None, "web:1")
    stop = asyncio.Event()
    task = asyncio.create_task(Runner(app).run(until=stop))
    try:
        for _ in range(200):
            with app.sessions() as s:
                if len(s.scalars(select(Mention.id)).all()) == 3:
                    break
            await asyncio.sleep(0.05)
        yield app, f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_the_mentions_page_in_chromium(dashboard: Any) -> None:
    app, base = dashboard
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = await log_in(browser, base, "anna")
            await page.click("header >> text=Mentions")
            await page.wait_for_url(base + "/mentions")
            assert await page.locator("table tr").count() == 4
            assert "the word lists decide" in await page.inner_text("#triage")
            assert "stays shut <script>alert(1)</script>" in await page.inner_text("table")
            await page.select_option("#kind", "question")
            await page.click("text=Filter")
            await page.wait_for_url("**kind=question**")
            assert await page.locator("table tr").count() == 2
            await page.goto(base + "/mentions?unsure=1")
            assert await page.locator("table tr").count() == 2 and "locker" in await page.inner_text("table")
            await page.goto(base + "/mentions?q=COAT")
            assert await page.locator("table tr").count() == 2 and "lovely" in await page.inner_text("table")

            await page.goto(base + "/mentions?kind=question")
            await page.click("button[value=a]")
            await page.wait_for_url("**/complaints/*")
            assert "Yes, to Iceland in 3 to 5 days." in await page.inner_text("#draft")
            await page.goto(base + "/mentions?unsure=1")
            await page.click("button[value=c]")
            await page.wait_for_url("**/complaints/*")
            await page.goto(base + "/mentions")
            await page.click("button[value=i]")
            await page.wait_for_selector("text=Ignored.")
            assert await page.locator("table tr").count() == 2  # the header and "nothing here"
        finally:
            await browser.close()
    with app.sessions() as s:
        kinds = {c.kind for c in s.scalars(select(Complaint))}
        labels = {lb.origin for lb in s.scalars(select(Label))}
    assert kinds == {"question", "complaint"} and labels == {"answer", "promote", "ignore"}
