"""The web dashboard (Starlette, server-rendered pages, no JavaScript needed).

Logins are the journal's web users (Argon2 hashes, throttled, checked off the journal's thread);
sessions are cookies signed with ``RECLAIM_WEB_SECRET`` (else a random key per process), with
a per-session CSRF token on every form. Staff see the inbox, complaints and sources and act
on complaints; managers also see the monthly review and manage corrective actions. Every
action goes through the same journal calls as the Telegram staff chat, so the bot redraws.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
import time as _time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.cards import cause_label
from core.inbox import MAX_DRAFT, Action, Staff
from core.review import MONTH, human, previous_month
from reclaim.app import App
from reclaim.health import Health, Pulse
from reclaim.throttle import LoginThrottle
from reclaim.web_input import number
from reclaim.web_mentions import mentions_act, mentions_page
from reclaim.web_server import SecureHeaders
from reclaim.web_server import server as serve_asgi
from services.accounts import User, password_matches
from services.actions import ActionError
from services.faq import FaqError, markdown
from services.faq import page as faq_page
from storage import dashboard

log = logging.getLogger("reclaim.web")
TEMPLATES = Path(__file__).parent / "templates"
ACTIONS = {"ap": Action.APPROVE, "tk": Action.TAKE, "tc": Action.TAKE_CONFIRM, "ps": Action.POSTED,
           "rr": Action.REJECT_AS, "cp": Action.CONFIRM_POSTED, "rp": Action.REPOST,
           "wc": Action.WITHDRAW_CONFIRM}  # fmt: skip


class Web:
    def __init__(self, app: App, secret: str | None = None, pulse: Pulse | None = None) -> None:
        self.app = app
        self.users, self.actions, self.faq = app.accounts, app.actions, app.faq
        env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
        env.filters["human"] = human
        env.filters["cause"] = cause_label
        env.filters["local"] = lambda d: d.astimezone(app.zone).strftime("%Y-%m-%d %H:%M") if d else "—"
        texts = app.staff_texts  # the dashboard speaks telegram.staff_language, as the cards do
        env.globals["t"] = lambda key, **values: texts.t("web", key, **values)
        env.globals["lang"] = texts.language
        self.env = env
        self._choices: tuple[float, dict[str, list[str]]] | None = None
        secret = secret or os.environ.get("RECLAIM_WEB_SECRET")
        if not secret:
            log.warning("RECLAIM_WEB_SECRET is not set: dashboard logins last until this process stops")
            secret = secrets.token_urlsafe(32)
        web = app.settings.web
        self.throttle = LoginThrottle(web.login_attempts, web.login_window)
        # Argon2 checks run here, never on the journal's thread (a login flood must not delay the
        # bot or the poller); two at a time at most, so a flood costs at most two cores' share
        self.hashing = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reclaim-login")
        self.starlette = Starlette(
            routes=[
                Route("/login", self.login, methods=["GET", "POST"]),
                Route("/logout", self.logout, methods=["POST"]),
                Route("/", self.inbox),
                Route("/complaints/{cid:id}", self.complaint),
                Route("/complaints/{cid:id}/act", self.act, methods=["POST"]),
                Route("/complaints/{cid:id}/edit", self.edit, methods=["POST"]),
                Route("/mentions", self.mentions),
                Route("/mentions/{mid:id}/act", self.mentions_act, methods=["POST"]),
                Route("/sources", self.sources),
                Route("/actions", self.action_list, methods=["GET", "POST"]),
                Route("/actions/{aid:id}/{what:str}", self.action_finish, methods=["POST"]),
                Route("/report", self.report),
                Route("/complaints/{cid:id}/faq", self.faq_add, methods=["POST"]),
                Route("/faq", self.faq_list),
                Route("/faq/{eid:id}/remove", self.faq_remove, methods=["POST"]),
                Route("/faq.{fmt:str}", self.faq_export),
                *Health(app, pulse).routes(),
            ],
            middleware=[
                Middleware(
                    SessionMiddleware,
                    secret_key=secret,
                    session_cookie="reclaim_session",
                    max_age=int(web.session_hours * 3600),
                    same_site="strict",
                    https_only=web.secure_cookies,
                )
            ],
        )
        self.asgi = SecureHeaders(self.starlette)

    # -- plumbing ---------------------------------------------------------------------------
    def page(self, request: Request, name: str, user: User | None, status: int = 200, **ctx: Any) -> HTMLResponse:
        session = request.session
        session.setdefault("csrf", secrets.token_urlsafe(32))
        notice = session.pop("notice", None)
        html = self.env.get_template(name).render(
            user=user, csrf=session["csrf"], notice=notice, brand=self.app.settings.brand.name, **ctx
        )
        return HTMLResponse(html, status_code=status)

    async def user(self, request: Request) -> User | None:
        """The session's login, unless its session has ended (logout, new password, disabled)."""
        uid = request.session.get("uid")
        if not isinstance(uid, int):
            return None
        user = await self.app.db(self.users.get, uid)
        if user is None or request.session.get("epoch") != user.epoch:
            request.session.clear()
            return None
        return user

    async def form(self, request: Request) -> FormData:
        """A POST's fields, once its CSRF token matches the session's."""
        data = await request.form()
        token, expected = str(data.get("csrf") or ""), str(request.session.get("csrf") or "")
        if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
            raise HTTPException(403, "the form has expired: reload the page and try again")
        return data

    def choices(self) -> dict[str, list[str]]:
        """The inbox filters' options, read at most once a minute (they change rarely)."""
        now = _time.monotonic()
        if self._choices is None or now - self._choices[0] > 60:
            self._choices = (now, self.app.views.choices(list(self.app.settings.triage.languages)))
        return self._choices[1]

    def say(self, request: Request, notice: str) -> None:
        t = self.app.staff_texts  # the dashboard speaks telegram.staff_language, as the cards do
        # the dashboard's own wording, else the card's (the same decision, told in Telegram)
        section = next((s for s in ("dashboard", "notice") if t.has(s, notice)), None)
        try:
            text = t.t(section, notice, owner="?", max=MAX_DRAFT) if section else notice.replace("_", " ")
        except (KeyError, IndexError, ValueError):  # a text with a placeholder the dashboard cannot fill
            text = notice.replace("_", " ")
        request.session["notice"] = text if len(text) <= 300 else text[:299] + "…"  # the cookie stays small

    # -- pages ------------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        if request.method == "GET":
            return self.page(request, "login.html", None)
        data = await self.form(request)
        name, password = str(data.get("name") or "")[:200], str(data.get("password") or "")
        address = request.client.host if request.client else "unknown"
        wait = self.throttle.begin(name, address)
        if wait is not None:
            log.warning("login throttled: name %r from %s (too many failures; retry in %ds)", name[:64], address, wait)
            error = "Too many failed logins. Wait a while and try again."
            response = self.page(request, "login.html", None, status=429, error=error)
            response.headers["Retry-After"] = str(wait)
            return response
        ok = False
        try:
            user, stored = await self.app.db(self.users.lookup, name)
            matches = await asyncio.get_running_loop().run_in_executor(self.hashing, password_matches, stored, password)
            ok = user is not None and matches
        finally:
            self.throttle.end(name, address, ok=ok)
        if not ok or user is None:
            log.warning("failed login: name %r from %s", name[:64], address)
            return self.page(request, "login.html", None, status=401, error="Wrong name or password.")
        request.session.clear()  # a new session on login
        request.session.update({"uid": user.id, "epoch": user.epoch, "csrf": secrets.token_urlsafe(32)})
        return RedirectResponse("/", status_code=303)

    async def logout(self, request: Request) -> Response:
        """Ends every session of this login, wherever its cookie was copied to."""
        await self.form(request)
        uid = request.session.get("uid")
        if isinstance(uid, int):
            await self.app.db(self.users.end_sessions, uid)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    async def inbox(self, request: Request) -> Response:
        user = await self.user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        q = request.query_params
        f = dashboard.Filters(
            status=q.get("status") or None,
            source=q.get("source") or None,
            language=q.get("language") or None,
            owner=q.get("owner") or None,
            overdue=q.get("overdue") == "1",
            page=min(number(q.get("page")) or 1, 1_000_000),
        )

        def read() -> tuple[list[dict[str, Any]], int, dict[str, list[str]]]:
            rows, total = self.app.views.inbox(f, datetime.now(UTC))
            return rows, total, self.choices()

        rows, total, choices = await self.app.db(read)
        pages = max((total + dashboard.PAGE - 1) // dashboard.PAGE, 1)
        return self.page(request, "inbox.html", user, rows=rows, total=total, f=f, choices=choices, pages=pages)

    async def complaint(self, request: Request) -> Response:
        user = await self.user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        cid = int(request.path_params["cid"])

        data = await self.app.db(self.app.views.complaint_page, cid)
        if data is None:
            raise HTTPException(404, f"no complaint #{cid}")
        return self.page(request, "complaint.html", user, now=datetime.now(UTC), **data)

    def staff(self, user: User) -> Staff:
        # web-only logins act under a negative id, which no Telegram user has
        return Staff(user.telegram_id if user.telegram_id else -user.id, user.name)

    async def act(self, request: Request) -> Response:
        user = await self.user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        data = await self.form(request)
        cid, code = int(request.path_params["cid"]), str(data.get("action") or "")
        if code not in ACTIONS:
            raise HTTPException(400, "unknown action")
        arg = str(data.get("reason") or "") or None
        applied = await self.app.db(self.app.inbox.act, cid, ACTIONS[code], self.staff(user), arg, None)
        self.say(request, applied.notice)
        return RedirectResponse(f"/complaints/{cid}", status_code=303)

    async def edit(self, request: Request) -> Response:
        user = await self.user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        data = await self.form(request)
        cid = int(request.path_params["cid"])
        text, published = str(data.get("text") or ""), data.get("what") == "published"  # the form's own target
        applied = await self.app.db(self.app.inbox.edit_draft, cid, self.staff(user), text, published)
        self.say(request, applied.notice)
        return RedirectResponse(f"/complaints/{cid}", status_code=303)

    async def mentions(self, request: Request) -> Response:
        return await mentions_page(self, request)  # reclaim/web_mentions.py

    async def mentions_act(self, request: Request) -> Response:
        return await mentions_act(self, request)

    async def sources(self, request: Request) -> Response:
        user = await self.user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)

        states = {s.name: s for s in await self.app.db(self.app.views.source_states)}
        configured = [(s, states.get(s.name)) for s in self.app.settings.sources]
        return self.page(request, "sources.html", user, configured=configured)

    async def action_list(self, request: Request) -> Response:
        user = await self.user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        if request.method == "POST":
            data = await self.form(request)
            if not user.manager:
                raise HTTPException(403, "only managers manage corrective actions")
            due = None
            if data.get("due"):
                try:
                    day = datetime.strptime(str(data["due"]), "%Y-%m-%d").date()
                except ValueError:
                    raise HTTPException(400, "write the due date as YYYY-MM-DD") from None
                due = datetime.combine(day, time(23, 59), tzinfo=self.app.zone).astimezone(UTC)
            ids = [n for x in str(data.get("complaints") or "").split(",") if (n := number(x)) is not None]
            try:
                action_id, covered = await self.app.db(
                    self.actions.add, str(data.get("title") or ""), str(data.get("cause") or ""),
                    str(data.get("owner") or "") or None, due, ids, f"web:{user.name}",
                )  # fmt: skip
            except ActionError as exc:
                self.say(request, str(exc))
            else:
                self.say(request, self.app.staff_texts.t("dashboard", "action_opened", id=action_id, covered=covered))
            return RedirectResponse("/actions", status_code=303)
        rows = await self.app.db(self.actions.listing, None)
        return self.page(request, "actions.html", user, actions=rows, causes=self.app.settings.review.causes)

    async def action_finish(self, request: Request) -> Response:
        user = await self.user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        await self.form(request)
        if not user.manager:
            raise HTTPException(403, "only managers manage corrective actions")
        what = request.path_params["what"]
        if what not in ("done", "drop"):
            raise HTTPException(404)
        try:
            await self.app.db(
                self.actions.finish, int(request.path_params["aid"]), "done" if what == "done" else "dropped"
            )
        except ActionError as exc:
            self.say(request, str(exc))
        return RedirectResponse("/actions", status_code=303)

    async def report(self, request: Request) -> Response:
        user = await self.user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        if not user.manager:
            raise HTTPException(403, "the monthly review is for managers")
        month = request.query_params.get("month") or previous_month(datetime.now(self.app.zone))
        if not MONTH.fullmatch(month):
            raise HTTPException(400, "write the month as YYYY-MM")
        html = await self.app.db(self.render_report, month)
        return HTMLResponse(html)

    async def faq_add(self, request: Request) -> Response:
        user = await self.user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        data = await self.form(request)
        cid = int(request.path_params["cid"])  # the "id" convertor: digits that fit
        language = str(data.get("language") or "") or "en"
        try:
            await self.app.db(self.faq.add, str(data.get("question") or ""), str(data.get("answer") or ""), language,
                              cid, f"web:{user.name}")  # fmt: skip
        except FaqError as exc:
            self.say(request, str(exc))
        else:
            self.say(request, self.app.staff_texts.t("dashboard", "faq_added"))
        return RedirectResponse(f"/complaints/{cid}", status_code=303)

    async def faq_list(self, request: Request) -> Response:
        user = await self.user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        entries = await self.app.db(self.faq.entries, None)
        return self.page(request, "faq.html", user, entries=entries, languages=self.app.settings.triage.languages)

    async def faq_remove(self, request: Request) -> Response:
        user = await self.user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        await self.form(request)
        if not user.manager:
            raise HTTPException(403, "managers take entries off the public FAQ")
        try:
            await self.app.db(self.faq.remove, int(request.path_params["eid"]))
        except FaqError as exc:
            self.say(request, str(exc))
        return RedirectResponse("/faq", status_code=303)

    async def faq_export(self, request: Request) -> Response:
        user = await self.user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        fmt, language = request.path_params["fmt"], request.query_params.get("language") or None
        if fmt not in ("md", "html"):
            raise HTTPException(404)
        if language is not None and language not in self.app.settings.triage.languages:
            raise HTTPException(400, f"language is one of {', '.join(self.app.settings.triage.languages)}")
        entries = await self.app.db(self.faq.entries, language)
        title = f"{self.app.settings.brand.name}: questions and answers"
        name = f"faq{'-' + language if language else ''}.{fmt}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        if fmt == "md":
            return Response(markdown(entries, title), media_type="text/markdown; charset=utf-8", headers=headers)
        return HTMLResponse(faq_page(entries, title, language or "en"), headers=headers)

    def render_report(self, month: str) -> str:
        from reclaim.report import render_html

        try:
            review = self.app.views.review(month, self.app.zone, self.app.settings.sla.first_response)
        except (ValueError, OverflowError) as exc:
            raise HTTPException(400, str(exc)) from None
        return render_html(review, self.app.settings.brand.name, self.app.staff_texts)


def server(app: App, web: Web | None = None, pulse: Pulse | None = None) -> Any:
    """uvicorn serving the dashboard (``serve(sockets=[...])`` on a socket from ``web_server.bind``)."""
    return serve_asgi((web or Web(app, pulse=pulse)).asgi, app.settings.web.trusted_proxies)
