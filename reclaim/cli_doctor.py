"""`reclaim migrate [--check]` and `reclaim doctor`: is this installation ready to run, and if
not, what to fix. Neither prints a secret (every line goes through the redactor)."""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reclaim.redact import REDACT

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine

    from reclaim.app import App

TIMEOUT = 10.0  # seconds for one whole Bot API answer
LIMIT = 1_000_000  # bytes of one Bot API answer


def add_parsers(sub: Any) -> None:
    migrate = sub.add_parser("migrate", help="bring the journal's schema up to date (it also happens at start)")
    migrate.add_argument("--check", action="store_true", help="only say whether migrations are pending (exit 1 if so)")
    sub.add_parser("doctor", help="check config, journal, Telegram, Reddit and every source, and say what to fix")


@dataclass(frozen=True)
class Revisions:
    current: str | None
    head: str
    pending: list[str]  # "0012 Several workers …", oldest first
    unknown: bool  # the journal is at a revision this version does not know (newer code ran on it)


def revisions(engine: Engine) -> Revisions:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = script.get_current_head()
    assert head is not None
    known = {r.revision for r in script.walk_revisions()}
    if current is not None and current not in known:
        return Revisions(current, head, [], True)
    steps = list(script.iterate_revisions(head, current))  # newest first
    pending = [f"{r.revision} {(r.doc or '').splitlines()[0] if r.doc else ''}".strip() for r in reversed(steps)]
    return Revisions(current, head, pending, False)


def migrate(app: App, args: argparse.Namespace, console: Console) -> int:
    from storage.db import make_engine
    from storage.db import migrate as upgrade

    engine = make_engine(app.settings.database.url)
    try:
        try:
            state = revisions(engine)
        except Exception as exc:  # unreachable, no such role or database: said in one line, exit 2
            print(REDACT(f"cannot open the journal ({_cause(exc)}): check database.url"), file=sys.stderr)
            return 2
        if state.unknown:
            console.print(
                f"the journal is at revision {state.current}, which this version of reclaim does not know "
                f"(its newest is {state.head}): install the version that wrote it, or a newer one",
                soft_wrap=True,
            )
            return 1
        if not state.pending:
            console.print(f"the journal is up to date (revision {state.head})")
            return 0
        if args.check:
            console.print(f"{len(state.pending)} migration(s) pending, from {state.current or 'an empty journal'}:")
            for line in state.pending:
                console.print(f"  {line}", soft_wrap=True)
            console.print("`reclaim migrate` applies them (so does `reclaim run` at start); take a backup first")
            return 1
        upgrade(engine)
        console.print(f"migrated from {state.current or 'an empty journal'} to {state.head}")
        return 0
    finally:
        engine.dispose()


def _cause(exc: BaseException) -> str:
    """The first line of the driver's own message (connection refused, role does not exist …)."""
    inner = getattr(exc, "orig", None) or exc
    first = (str(inner).strip().splitlines() or [type(inner).__name__])[0]
    return REDACT(first[:200])


# -- doctor -------------------------------------------------------------------------------------
Check = tuple[str, str, str]  # (ok | warn | FAIL, what, how to fix or detail)


def doctor(app: App, args: argparse.Namespace, console: Console) -> int:
    results: list[Check] = []
    for check in (_journal, _telegram, _reddit, _sources, _web):
        try:
            results.extend(check(app))
        except Exception as exc:  # a check that breaks is itself a finding, never a traceback
            results.append(("FAIL", check.__name__.strip("_"), f"the check itself failed: {type(exc).__name__}"))
    marks = {"ok": "[green]ok  [/]", "warn": "[yellow]warn[/]", "FAIL": "[red]FAIL[/]"}
    for state, what, detail in results:
        console.print(f"{marks[state]} {REDACT(what)}: {REDACT(detail)}", markup=True, highlight=False, soft_wrap=True)
    failed = sum(1 for r in results if r[0] == "FAIL")
    console.print(f"{failed} problem(s) to fix" if failed else "ready to run: `reclaim run`")
    return 1 if failed else 0


def _journal(app: App) -> Iterator[Check]:
    from storage.db import make_engine

    url = app.settings.database.url
    engine = make_engine(url)
    try:
        state = revisions(engine)
    except Exception as exc:
        yield "FAIL", "journal", f"cannot be opened ({_cause(exc)}): check database.url and that the server runs"
        return
    finally:
        engine.dispose()
    backend = engine.dialect.name
    if state.unknown:
        yield "FAIL", "journal", f"at revision {state.current}, unknown to this version: install a newer reclaim"
    elif state.pending:
        yield (
            "warn",
            "journal",
            f"{len(state.pending)} migration(s) pending: `reclaim migrate` (or `reclaim run`)",
        )
    else:
        yield "ok", "journal", f"{backend}, schema up to date ({state.head})"
    if backend == "sqlite":
        yield "ok", "workers", "SQLite: one `reclaim run` at a time (use PostgreSQL for several)"


def _telegram(app: App) -> Iterator[Check]:
    import httpx

    tg = app.settings.telegram
    if tg.token is None:
        yield "warn", "telegram", "TELEGRAM_BOT_TOKEN is not set: no cards, replies or alerts until it is"
        return
    if tg.staff_chat_id is None:
        yield "FAIL", "telegram", "telegram.staff_chat_id is not set: the cards have nowhere to go"
    base = str(tg.base_url or "https://api.telegram.org/bot").rstrip("/")
    call = _bot_api(f"{base}{tg.token.get_secret_value()}")
    try:
        me = call("getMe")
    except _Refused as exc:
        if str(exc).startswith(("HTTP 401", "HTTP 404")) and tg.base_url is None:
            yield "FAIL", "telegram", f"Telegram refused the token ({exc}): check TELEGRAM_BOT_TOKEN with @BotFather"
        elif str(exc).startswith(("HTTP 401", "HTTP 404")):
            yield "FAIL", "telegram", f"{exc}: check TELEGRAM_BOT_TOKEN, and telegram.base_url (it ends in /bot)"
        else:
            yield "FAIL", "telegram", str(exc)
        return
    except httpx.HTTPError as exc:
        yield "FAIL", "telegram", f"Telegram cannot be reached ({type(exc).__name__}): check the network or base_url"
        return
    yield "ok", "telegram", f"the token is @{me.get('username')}'s"
    chats = {"staff chat": tg.staff_chat_id, "managers' chat": tg.manager_chat_id}
    chats.update({f"group of {s.name}": chat for s in app.settings.sources if s.enabled for chat in s.telegram_chats()})
    for what, chat in chats.items():
        if chat is None:
            continue
        try:
            call("getChat", chat_id=chat)
            yield "ok", what, f"{chat}: the bot is in it"
        except (_Refused, httpx.HTTPError) as exc:
            yield "FAIL", what, f"{chat}: the bot cannot see it ({exc}): add the bot to that chat"


class _Refused(Exception):
    pass


def _bot_api(base: str) -> Callable[..., dict[str, Any]]:
    """A Bot API call that gives up after TIMEOUT in all and reads at most LIMIT bytes (a wrong
    base_url may point at anything: a trickle, a huge body, a page that is not the Bot API's)."""
    import json
    import time

    import httpx

    def call(method: str, **params: Any) -> dict[str, Any]:
        deadline, body = time.monotonic() + TIMEOUT, b""
        try:
            with httpx.stream("POST", f"{base}/{method}", json=params, timeout=TIMEOUT) as r:
                for chunk in r.iter_bytes():
                    body += chunk
                    if len(body) > LIMIT or time.monotonic() > deadline:
                        raise _Refused(
                            "the answer is not the Bot API's (too long or too slow): check telegram.base_url"
                        )
        except httpx.InvalidURL:
            raise _Refused("telegram.base_url is not a Bot API address (it ends in /bot)") from None
        try:
            answer = json.loads(body)
        except ValueError:
            raise _Refused(f"HTTP {r.status_code}, not the Bot API's answer: check telegram.base_url") from None
        if r.status_code != 200 or not isinstance(answer, dict) or not answer.get("ok"):
            why = answer.get("description", "") if isinstance(answer, dict) else ""
            raise _Refused(f"HTTP {r.status_code} {why}".strip())
        return dict(answer["result"])

    return call


def _reddit(app: App) -> Iterator[Check]:
    wanted = [s.name for s in app.settings.sources if s.enabled and s.kind == "reddit"]
    if not wanted:
        return
    client = app.reddit
    if client is None:
        yield "FAIL", "reddit", f"{', '.join(wanted)} need REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET, REDDIT_USERNAME, " \
            "REDDIT_PASSWORD in the environment"  # fmt: skip
        return
    try:
        name = client.run(lambda r: r.user.me())
        yield "ok", "reddit", f"signed in as u/{name}"
    except Exception as exc:
        yield "FAIL", "reddit", f"sign-in failed ({exc}): check the REDDIT_* credentials and the app's type (script)"


def _sources(app: App) -> Iterator[Check]:
    import asyncio  # here, not at the top: `reclaim --help` and check-config never need it

    return iter(asyncio.run(_fetch_all(app)))


async def _fetch_all(app: App) -> list[Check]:
    """Every fetched source once, a few at a time (polling.concurrency), in config order."""
    import asyncio

    from watchers import REGISTRY, FetchError, FetchKind, SourceOptions
    from watchers.http import fetch_with_retries, make_client

    sem = asyncio.Semaphore(app.settings.polling.concurrency)

    async def one(client: Any, source: SourceOptions, kind: Any) -> Check:
        async with sem:
            try:
                fetched = await fetch_with_retries(client, kind.request(source, None, None), retries=0)
            except FetchError as exc:
                return "FAIL", f"source {source.name}", f"{exc}: check its url, or set enabled: false"
        return "ok", f"source {source.name}", f"HTTP {fetched.status}, {len(fetched.body):,} bytes"

    async with make_client(app.user_agent) as client:
        fetched = [(s, REGISTRY.of(s)) for s in app.settings.sources if s.enabled]
        return list(await asyncio.gather(*(one(client, s, k) for s, k in fetched if isinstance(k, FetchKind))))


def _web(app: App) -> Iterator[Check]:
    import os

    web = app.settings.web
    if not web.enabled:
        return
    if not os.environ.get("RECLAIM_WEB_SECRET"):
        yield "warn", "web", "RECLAIM_WEB_SECRET is not set: dashboard logins end whenever the process restarts"
    with socket.socket(socket.AF_INET6 if ":" in web.host else socket.AF_INET) as s:
        try:
            s.bind((web.host, web.port))
            yield "ok", "web", f"{web.listen} is free"
        except OSError:
            yield "warn", "web", f"{web.listen} is taken (by a running `reclaim run`?): set web.listen to a free one"
