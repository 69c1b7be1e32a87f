"""The dashboard's Mentions page: the mentions lane as in the staff chat (It's a complaint,
Answer, Thank, Ignore), with filters by kind, source, language and "unsure", and a search box.
By default it lists the mentions waiting for someone; "all" lists every mention."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reclaim.web_input import number
from services.mentions import ACTIONS

if TYPE_CHECKING:
    from reclaim.web import Web

KINDS = ("question", "praise", "other", "complaint")
PAGE = 50


async def mentions_page(web: Web, request: Request) -> Response:
    user = await web.user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    q = request.query_params
    kind = q.get("kind") if q.get("kind") in KINDS else None
    languages = list(web.app.settings.triage.languages)
    language = q.get("language") if q.get("language") in languages else None
    sources = [s.name for s in web.app.settings.sources]
    source = q.get("source") if q.get("source") in sources else None
    search = (q.get("q") or "").strip()[:200] or None
    every, unsure = q.get("all") == "1", q.get("unsure") == "1"
    status = await web.app.db(web.app.learning.status)
    rows = await web.app.db(
        lambda: web.app.views.mentions(kind=kind, source=source, language=language, unsure=unsure, search=search,
                                       lane=not every, limit=PAGE * min(number(q.get("page")) or 1, 200))
    )  # fmt: skip
    page = min(number(q.get("page")) or 1, 200)
    shown = rows[(page - 1) * PAGE : page * PAGE]
    for row in shown:  # an open question offers the FAQ entries that match it, as in the staff chat
        if row["kind"] == "question" and row["lane"] == "open":
            view = await web.app.db(web.app.mentions.view, row["id"])
            row["faq"] = list(view.faq) if view is not None else []
    f = {"kind": kind, "source": source, "language": language, "q": search or "", "all": every, "unsure": unsure}
    return web.page(request, "mentions.html", user, rows=shown, f=f, kinds=KINDS, sources=sources,
                    languages=languages, page=page, more=len(rows) == page * PAGE, triage=status)  # fmt: skip


async def mentions_act(web: Web, request: Request) -> Response:
    user = await web.user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    data = await web.form(request)
    mid, action = int(request.path_params["mid"]), str(data.get("action") or "")
    if action not in ACTIONS and not (action[:1] == "f" and action[1:].isdigit() and len(action) < 12):
        raise HTTPException(400, "unknown action")
    applied = await web.app.db(web.app.mentions.act, mid, action, web.staff(user), None)
    web.say(request, f"lane_{applied.notice}")
    if applied.case_id is not None and applied.changed:
        return RedirectResponse(f"/complaints/{applied.case_id}", status_code=303)
    back = str(data.get("back") or "/mentions")
    return RedirectResponse(back if back.startswith("/mentions") and "//" not in back else "/mentions", status_code=303)
