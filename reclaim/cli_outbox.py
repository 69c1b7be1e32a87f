"""`reclaim outbox`: messages that could not be sent (given up after `outbox.max_attempts`,
refused by the place, or cut off mid-send) listed; failed ones queued again or dropped."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from core.lifecycle import NEEDS_PERSON, Delivery
from reclaim.cli_args import journal_id, limit

ATTENTION = "attention"  # the default listing: what waits for a person

if TYPE_CHECKING:
    from rich.console import Console

    from reclaim.app import App


def add_parsers(sub: Any) -> None:
    box = sub.add_parser("outbox", help="messages that could not be sent").add_subparsers(dest="action", required=True)
    listing = box.add_parser("list", help="rows waiting for a person: failed, refused, unconfirmed (or --status S|all)")
    listing.add_argument("--status", choices=[*(d.value for d in Delivery), "all", ATTENTION], default=ATTENTION)
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--limit", type=limit, default=200)
    for name, what in (
        ("retry", "queue failed rows again (or a refused message by its id; a refused public reply: see its card)"),
        ("drop", "give failed (or, by id, refused) rows up for good"),
    ):
        p = box.add_parser(name, help=what)
        p.add_argument("ids", type=journal_id, nargs="*", metavar="ID")
        p.add_argument("--all", action="store_true", help="every failed row (after an outage, say)")


def run(app: App, args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    from reclaim.cli_args import plain_row

    if args.action == "list":
        statuses = {"all": None, ATTENTION: NEEDS_PERSON}.get(args.status, (args.status,))
        rows = app.views.outbox(statuses, args.limit)
        if args.json:
            sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
            return 0
        table = Table("id", "kind", "complaint", "status", "attempts", "last error")
        for r in rows:
            cells = (
                r["id"],
                r["kind"],
                r["complaint_id"] or "-",
                r["status"],
                r["attempts"],
                (r["last_error"] or "-")[:90],
            )
            plain_row(table, *cells)
        console.print(table)
        if not rows:
            console.print(
                f"no {'failed, refused or unconfirmed' if args.status == ATTENTION else args.status} outbox rows"
            )
        return 0
    if not args.ids and not args.all:
        print(f"name the rows to {args.action} (reclaim outbox {args.action} ID …) or give --all", file=sys.stderr)
        return 2
    from services.delivery import OutboxError

    settle = app.delivery.requeue if args.action == "retry" else app.delivery.drop
    try:
        count = settle(args.ids or [], "cli")
    except OutboxError as exc:
        print(f"{exc}; nothing was changed", file=sys.stderr)
        return 2
    done = "queued again: `reclaim run` sends them" if args.action == "retry" else "dropped"
    console.print(f"{count} outbox row(s) {done}")
    return 0
