"""`reclaim web` (the dashboard alone) and `reclaim users` (its logins)."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from typing import TYPE_CHECKING, Any

from reclaim.cli_args import record_id

if TYPE_CHECKING:
    from rich.console import Console

    from reclaim.app import App


def add_parsers(sub: Any) -> None:
    sub.add_parser("web", help="serve the web dashboard alone (`reclaim run` serves it too)")
    users = sub.add_parser("users", help="logins for the web dashboard").add_subparsers(dest="action", required=True)
    add = users.add_parser("add", help="a new login; the password from $RECLAIM_NEW_PASSWORD or asked for")
    add.add_argument("name")
    add.add_argument("--role", choices=["staff", "manager"], required=True)
    add.add_argument("--telegram-id", type=record_id, help="the same person's numeric id in the staff chat")
    users.add_parser("list")
    for name, text in (("disable", "stop a login (its sessions end too)"), ("enable", "allow a login again"),
                       ("password", "a new password (from $RECLAIM_NEW_PASSWORD or asked)")):  # fmt: skip
        users.add_parser(name, help=text).add_argument("name")


def _password() -> str:
    from services.accounts import UserError

    given = os.environ.get("RECLAIM_NEW_PASSWORD")
    if given:
        return given
    if not sys.stdin.isatty():
        raise UserError("set RECLAIM_NEW_PASSWORD, or run this in a terminal to be asked")
    first = getpass.getpass("password (10 characters or more): ")
    if first != getpass.getpass("again: "):
        raise UserError("the two passwords differ")
    return first


def run(app: App, args: argparse.Namespace, console: Console) -> int:
    if args.command == "web":
        import asyncio  # here: every command's parser imports this module

        from reclaim.web import server
        from reclaim.web_server import bind

        sock = bind(app.settings.web)
        console.print(f"dashboard on http://{app.settings.web.listen} (Ctrl-C stops it)")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(server(app).serve(sockets=[sock]))
        return 0
    from services.accounts import UserError

    users = app.accounts
    if args.action == "list":
        for u, disabled in users.listing():
            line = f"{u.name}\t{u.role}\t{u.telegram_id or ''}{' (disabled)' if disabled else ''}"
            console.print(line, markup=False, highlight=False)
        return 0
    try:
        if args.action in ("disable", "enable"):
            users.set_disabled(args.name, args.action == "disable")
            console.print(f"{args.name} is {args.action}d", markup=False)
            return 0
        if args.action == "password":
            users.set_password(args.name, _password())
            console.print(f"{args.name} has a new password", markup=False)
            return 0
        user = users.add(args.name, _password(), args.role, args.telegram_id)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    console.print(f"{user.name} can log in as {user.role}", markup=False)
    return 0
