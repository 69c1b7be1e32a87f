"""Our published reply from the dashboard, as from the card: anyone on the team edits it in place
(where the place has an API for that), its owner withdraws it (after a second click), and the
outbox carries both to the place exactly as the card's buttons do."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from core.inbox import Action
from core.outbox import from_json
from reclaim.web import Web
from sandbox.sites import Page, SiteServer
from storage.tables import Complaint, Outbox
from tests.conftest import poll_all
from tests.integration.test_poll import feed
from tests.integration.test_web_hardening import PASSWORD, client, csrf, log_in


async def published_on_reddit(site: SiteServer, make_app: Any, db_url: str) -> Any:
    """An app with one complaint whose reply went out on Reddit, Anna (Telegram id 111) owning it."""
    url = site.add("/feed.xml", Page(feed(("1", "Nordlys order never arrived", "I want my money back."))))
    app = make_app(db_url, [{"name": "blog", "kind": "rss", "url": url}])
    await asyncio.to_thread(poll_all, app)
    with app.sessions.begin() as s:
        s.execute(update(Complaint).values(status="published", publisher="reddit", reply_id="t1_ours",
                                           owner_id=111, owner_name="Anna"))  # fmt: skip
    app.accounts.add("anna", PASSWORD, "staff", telegram_id=111)
    return app


async def test_the_dashboard_edits_and_withdraws_our_published_reply(
    db_url: str, site: SiteServer, make_app: Any
) -> None:
    app = await published_on_reddit(site, make_app, db_url)
    app.accounts.add("bob", PASSWORD, "staff", telegram_id=222)
    web = Web(app, secret="test secret " * 4)

    def rows(kind: str) -> list[Outbox]:
        with app.sessions() as s:
            return list(s.scalars(select(Outbox).where(Outbox.kind == kind)))

    async with client(web) as bob:
        assert (await log_in(bob, "bob")).status_code == 303
        page = (await bob.get("/complaints/1")).text
        assert "Edit our published reply" in page and "Withdraw our reply" not in page  # not his
        # a draft form opened before the policy published the reply rewrites nothing people see
        form = {"csrf": await csrf(bob, "/complaints/1"), "text": "An old draft form"}
        assert (await bob.post("/complaints/1/edit", data=form)).status_code == 303
        assert rows("amend") == []
        assert (await bob.post("/complaints/1/edit", data={"text": "x", "what": "published"})).status_code == 403
        assert rows("amend") == []  # no CSRF token, no edit
        form = {"csrf": await csrf(bob, "/complaints/1"), "text": "Sorry again <b>Anna</b> here", "what": "published"}
        assert (await bob.post("/complaints/1/edit", data=form)).status_code == 303
        assert "Editing our published reply" in (await bob.get("/complaints/1")).text
        form = {"csrf": await csrf(bob, "/complaints/1"), "action": Action.WITHDRAW_CONFIRM.value}
        assert (await bob.post("/complaints/1/act", data=form)).status_code == 303
        assert "Only the owner can withdraw" in (await bob.get("/complaints/1")).text
    (amend,) = rows("amend")
    payload = from_json("amend", amend.payload)
    assert amend.key.startswith("amend:1:") and amend.status == "pending"
    assert (payload.reply_id, payload.text) == ("t1_ours", "Sorry again <b>Anna</b> here")

    async with client(web) as anna:
        assert (await log_in(anna, "anna")).status_code == 303
        page = (await anna.get("/complaints/1")).text
        assert "Withdraw our reply" in page
        form = {"csrf": await csrf(anna, "/complaints/1"), "text": "A second, better text", "what": "published"}
        assert (await anna.post("/complaints/1/edit", data=form)).status_code == 303
        form = {"csrf": await csrf(anna, "/complaints/1"), "action": Action.WITHDRAW_CONFIRM.value}
        assert (await anna.post("/complaints/1/act", data=form)).status_code == 303
    amends = {r.key: r.status for r in rows("amend")}
    assert sorted(amends.values()) == ["cancelled", "pending", "pending"]  # the newer edit drops the older
    withdrawals = [from_json("amend", r.payload) for r in rows("amend") if r.key.startswith("withdraw:")]
    assert [(w.reply_id, w.text) for w in withdrawals] == [("t1_ours", None)]


async def test_no_withdrawal_once_the_customer_opened_the_private_chat(
    db_url: str, site: SiteServer, make_app: Any
) -> None:
    from storage.tables import ConversationRow

    app = await published_on_reddit(site, make_app, db_url)
    with app.sessions.begin() as s:  # the customer came in by our reply's link
        s.merge(
            ConversationRow(complaint_id=1, customer_id=555, step="listening", state={}, updated_at=datetime.now(UTC))
        )
    async with client(Web(app, secret="test secret " * 4)) as anna:
        assert (await log_in(anna, "anna")).status_code == 303
        assert "Withdraw our reply" not in (await anna.get("/complaints/1")).text
        form = {"csrf": await csrf(anna, "/complaints/1"), "action": Action.WITHDRAW_CONFIRM.value}
        assert (await anna.post("/complaints/1/act", data=form)).status_code == 303
        assert "opened the private chat" in (await anna.get("/complaints/1")).text
    with app.sessions() as s:
        assert not list(s.scalars(select(Outbox).where(Outbox.key.like("withdraw:%"))))
