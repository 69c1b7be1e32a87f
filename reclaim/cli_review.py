"""`reclaim report` and `reclaim actions`: the monthly review and corrective actions."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.review import previous_month
from reclaim.cli_args import journal_id, plain_row
from reclaim.cli_args import month as month_arg

if TYPE_CHECKING:
    from rich.console import Console

    from reclaim.app import App


def add_parsers(sub: Any) -> None:
    report = sub.add_parser("report", help="the monthly review (volumes, speed, promises, causes, actions)")
    report.add_argument("--month", type=month_arg, help="YYYY-MM (default: last month)")
    report.add_argument("--format", choices=["html", "csv", "json"], default="html")
    report.add_argument(
        "--out", metavar="PATH", help="file to write (default: reclaim-review-MONTH.html; stdout for csv/json)"
    )
    actions = sub.add_parser("actions", help="corrective actions").add_subparsers(dest="action", required=True)
    al = actions.add_parser("list")
    al.add_argument("--json", action="store_true")
    al.add_argument("--status", choices=["open", "done", "dropped", "all"], default="all")
    aa = actions.add_parser("add", help="what will change, for which cause, who owns it, by when")
    aa.add_argument("--title", required=True)
    aa.add_argument("--cause", required=True, help="one of review.causes")
    aa.add_argument("--owner")
    aa.add_argument("--due", help="YYYY-MM-DD")
    aa.add_argument("--complaints", help="complaint ids it covers, e.g. 12,15,31")
    aa.add_argument("--link-cause", action="store_true", help="also cover this cause's complaints of the last 90 days")
    for name in ("done", "drop"):
        a = actions.add_parser(name)
        a.add_argument("id", type=journal_id)
    faq = sub.add_parser("faq", help="the public questions-and-answers page").add_subparsers(
        dest="action", required=True
    )
    export = faq.add_parser("export", help="the entries as HTML or Markdown for the company's site")
    export.add_argument("--format", choices=["html", "md"], default="html")
    export.add_argument("--language", help="one language's entries (default: all)")
    export.add_argument("--out", metavar="PATH", help="file to write (default: stdout)")


def run(app: App, args: argparse.Namespace, console: Console) -> int:
    if args.command == "report":
        return _report(app, args, console)
    if args.command == "faq":
        return _faq(app, args, console)
    return _actions(app, args, console)


def _write(path: Path, data: bytes) -> bool:
    """Write a report or an export; a path that cannot be written is one line on stderr."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        print(f"error: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


def _faq(app: App, args: argparse.Namespace, console: Console) -> int:
    from services.faq import markdown, page

    entries = app.faq.entries(args.language)
    title = f"{app.settings.brand.name}: questions and answers"
    text = markdown(entries, title) if args.format == "md" else page(entries, title, args.language or "en")
    if args.out:
        if not _write(Path(args.out), text.encode("utf-8")):
            return 2
        console.print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} written to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _actions(app: App, args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    from services.actions import ActionError

    store = app.actions
    try:
        if args.action == "list":
            rows = store.listing(None if args.status == "all" else args.status)
            if args.json:
                print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
                return 0
            table = Table("id", "title", "cause", "owner", "due", "status", "complaints")
            for r in rows:
                due = (r["due"] or "")[:10]
                plain_row(table, r["id"], r["title"], r["cause"], r["owner"] or "", due, r["status"], r["complaints"])
            console.print(table)
            return 0
        if args.action == "add":
            due = None
            if args.due:
                try:
                    day = datetime.strptime(args.due, "%Y-%m-%d").date()
                except ValueError:
                    raise ActionError(f"--due: write a date as YYYY-MM-DD (got {args.due!r})") from None
                due = datetime.combine(day, time(23, 59), tzinfo=app.zone).astimezone(UTC)
            ids = [int(x) for x in args.complaints.split(",") if x.strip()] if args.complaints else []
            action_id, covered = store.add(
                args.title, args.cause, args.owner, due, ids, "cli", link_cause=args.link_cause
            )
            console.print(f"action #{action_id} opened for {args.cause}, covering {covered} complaint(s)")
            return 0
        action_id = store.finish(args.id, "done" if args.action == "done" else "dropped")
        console.print(f"action #{action_id} is {'done' if args.action == 'done' else 'dropped'}")
        return 0
    except (ActionError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _report(app: App, args: argparse.Namespace, console: Console) -> int:
    from reclaim.report import render  # matplotlib loads only for a report

    month = args.month or previous_month(datetime.now(app.zone))
    try:
        review = app.views.review(month, app.zone, app.settings.sla.first_response)
    except ValueError as exc:
        print(f"error: --month: {exc}", file=sys.stderr)
        return 2
    data = render(review, args.format, app.settings.brand.name, app.staff_texts)
    out = args.out or (f"reclaim-review-{month}.html" if args.format == "html" else None)
    if out is None:
        sys.stdout.write(data.decode("utf-8"))
        return 0
    if not _write(Path(out), data):
        return 2
    console.print(
        f"{month}: {review.kinds.get('complaint', 0)} complaints against {review.praise} compliments; written to {out}"
    )
    return 0
