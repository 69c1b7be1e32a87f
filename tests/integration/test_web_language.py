"""The dashboard speaks the staff's language (telegram.staff_language), as the cards do: its
pages and its notices, from the staff texts (bot/texts/<code>.toml)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.inbox import Action
from reclaim.web import Web
from sandbox.sites import Page, SiteServer
from tests.conftest import poll_all
from tests.integration.test_poll import feed
from tests.integration.test_web_hardening import PASSWORD, client, csrf, log_in


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("da", ["Indbakke", "Filtrér", "Godkend", "Det offentlige svar", "Godkendt: svaret er på vej."]),
        ("ru", ["Входящие", "Показать", "Одобрить", "Публичный ответ", "Одобрено: ответ отправляется."]),
    ],
)
async def test_the_dashboard_speaks_the_staff_language(
    db_url: str, site: SiteServer, make_app: Any, language: str, words: list[str]
) -> None:
    url = site.add("/feed.xml", Page(feed(("1", "Nordlys order never arrived", "I want my money back."))))
    app = make_app(db_url, [{"name": "blog", "kind": "rss", "url": url}],
                   telegram={"bot_username": "nordlys_care_bot", "staff_language": language})  # fmt: skip
    await asyncio.to_thread(poll_all, app)
    app.accounts.add("anna", PASSWORD, "staff", telegram_id=111)
    web = Web(app, secret="test secret " * 4)
    async with client(web) as c:
        assert (await log_in(c, "anna")).status_code == 303
        inbox = (await c.get("/")).text
        page = (await c.get("/complaints/1")).text
        form = {"csrf": await csrf(c, "/complaints/1"), "action": Action.APPROVE.value}
        assert (await c.post("/complaints/1/act", data=form)).status_code == 303
        after = (await c.get("/complaints/1")).text
    assert f'<html lang="{language}">' in inbox
    shown = inbox + page + after
    assert all(w in shown for w in words), [w for w in words if w not in shown]
    assert "Inbox" not in inbox and "Approve" not in page
