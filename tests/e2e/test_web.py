"""The web dashboard in a real browser: headless Chromium (Debian's) driven by Playwright, against
`reclaim run`'s Runner serving the dashboard on a local port, with complaints from a local feed.
A staff login filters the inbox, opens a complaint, approves its draft and sees the event in
its timeline; it cannot see the review or manage actions. A manager sees the review and opens
an action. Forms without the session's CSRF token are refused."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import async_playwright
from sqlalchemy import select

from reclaim.scheduler import Runner
from sandbox.sites import Page, SiteServer
from storage.tables import Complaint
from tests.conftest import missing
from tests.integration.test_poll import feed

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(autouse=True)
def chromium() -> None:
    if CHROMIUM is None:
        missing("Chromium is not installed (apt-get install chromium)")


PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def dashboard(db_url: str, site: SiteServer, make_app: Any) -> AsyncIterator[tuple[Any, str]]:
    site.add(
        "/feed.xml",
        Page(
            feed(
                ("1", "Nordlys lost my order", "Three weeks and no parcel. &lt;b&gt;Awful&lt;/b&gt; service."),
                ("2", "Nordlys mistede min pakke", "Min ordre kom aldrig frem, og ingen svarer. Elendigt."),
                ("3", "Nordlys never refunded me", "Returned the coat a month ago, still no refund. Terrible service."),
            )
        ),
    )
    port = free_port()
    app = make_app(
        db_url,
        [{"name": "community", "kind": "rss", "url": site.url("/feed.xml"), "every": "1h"}],
        polling={"retries": 0, "workers": 0, "jitter": "0s"},
        web={"enabled": True, "listen": f"127.0.0.1:{port}"},
    )
    users = app.accounts
    users.add("anna", PASSWORD, "staff", telegram_id=111)
    users.add("maria", PASSWORD, "manager")
    stop = asyncio.Event()
    task = asyncio.create_task(Runner(app).run(until=stop))
    try:
        for _ in range(200):  # the first poll has opened the complaints
            with app.sessions() as s:
                if len(s.scalars(select(Complaint.id)).all()) == 3:
                    break
            await asyncio.sleep(0.05)
        yield app, f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def log_in(browser: Any, base: str, name: str) -> Any:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(base + "/")
    assert page.url.endswith("/login")
    await page.fill("#name", name)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(base + "/")
    return page


async def test_staff_and_managers_in_chromium(dashboard: Any) -> None:
    app, base = dashboard
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = await (await browser.new_context()).new_page()
            await page.goto(base + "/login")
            await page.fill("#name", "anna")
            await page.fill("#password", "wrong password!")
            await page.click("button[type=submit]")
            assert "Wrong name or password" in await page.inner_text("main")

            page = await log_in(browser, base, "anna")
            rows = page.locator("table tr")
            assert await rows.count() == 4  # a header and three open complaints
            await page.select_option("#language", "da")
            await page.click("text=Filter")
            await page.wait_for_url("**language=da**")
            assert await page.locator("table tr").count() == 2
            assert "Nordlys mistede min pakke" in await page.inner_text("table")

            await page.select_option("#language", "")
            await page.click("text=Filter")
            await page.click("text=Nordlys lost my order")
            await page.wait_for_url("**/complaints/*")
            assert "Three weeks and no parcel. <b>Awful</b> service." in await page.inner_text("blockquote")
            draft = await page.inner_text("#draft")
            assert "https://t.me/" not in draft or "start=" in draft
            await page.click("button[value=ap]")
            await page.wait_for_selector("text=Approved: the reply is on its way.")
            timeline = await page.inner_text("#timeline")
            assert "approved by anna" in timeline and "owner set by anna" in timeline
            cid = int(page.url.rsplit("/", 1)[1])
            with app.sessions() as s:
                c = s.get(Complaint, cid)
                assert c is not None and c.status == "awaiting_post" and c.owner_id == 111

            await page.click("text=Add a question and answer to the public FAQ")
            await page.fill("#faq-question", "Do you ship to <Greenland>?")
            await page.fill("#faq-answer", "Yes, within 5 days.\nTracking comes by e-mail.")
            await page.click("text=Add to the FAQ")
            await page.wait_for_selector("text=Added to the public FAQ.")
            await page.goto(base + "/faq")
            assert "Do you ship to <Greenland>?" in await page.inner_text("section.faq h2")
            exported = await page.request.get(base + "/faq.md?language=en")
            assert "## Do you ship to \\<Greenland\\>?" in await exported.text()

            await page.goto(base + "/actions")
            assert await page.locator("#new-action").count() == 0
            csrf = await page.get_attribute("input[name=csrf]", "value")
            refused = await page.request.post(
                base + "/actions", form={"csrf": csrf or "", "title": "x", "cause": "policy"}
            )
            assert refused.status == 403
            assert (await page.request.get(base + "/report")).status == 403
            forged = await page.request.post(base + f"/complaints/{cid}/act", form={"action": "tk"})
            assert forged.status == 403  # no CSRF token

            boss = await log_in(browser, base, "maria")
            await boss.click("text=Monthly review")
            assert "complaints review" in await boss.inner_text("h1")
            await boss.goto(base + "/actions")
            await boss.fill("#title", "Double-check addresses before dispatch")
            await boss.select_option("#cause", "late_delivery")
            await boss.fill("#complaints", str(cid))
            await boss.click("text=Open the action")
            await boss.wait_for_selector("text=covering 1 complaint(s)")
            assert "Double-check addresses before dispatch" in await boss.inner_text("#actions")
        finally:
            await browser.close()
