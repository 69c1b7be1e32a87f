"""The `reclaim` commands over the config and the journal: check-config, poll --once, sources,
status, mentions, complaints, customers forget, purge (the others: cli_outbox, cli_review,
cli_web). Imported when one of them runs, so `reclaim --help` loads none of this."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from core.durations import format_duration
from reclaim.cli import EXIT_CONFIG, EXIT_SOURCES_FAILED
from reclaim.cli_args import plain_row
from reclaim.redact import REDACT
from reclaim.settings import Settings
from watchers import REGISTRY, FetchKind, SourceOptions

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from reclaim.app import App
    from reclaim.poller import Outcome


def where(s: SourceOptions) -> str:
    """What a source watches, in a table cell."""
    return REGISTRY.of(s).where(s)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _policy(settings: Settings) -> str:
    """respond.auto_publish in a line: what is published by policy, after how long."""
    policy = settings.respond.policy(settings.timezone, settings.sources, settings.triage.languages)
    if policy is None:
        return "off (every public reply waits for a person)"
    if not policy.sources:
        return "nothing (no configured source has a reply API)"
    respond = settings.respond
    hours = ", ".join(f"{day} {spans}" for day, spans in respond.working_hours.items()) or "always"
    return (
        f"{', '.join(sorted(policy.severities))} complaints in {', '.join(sorted(policy.languages))} from "
        f"{', '.join(sorted(policy.sources))}, posted within {format_duration(policy.max_age)}, one per author: "
        f"after {format_duration(policy.after)} without a staff action in working hours ({hours}, "
        f"{respond.timezone or settings.timezone}), {format_duration(policy.outside_hours)} outside them"
    )


def check_config(settings: Settings, console: Console) -> int:
    """A summary of the config, once the word lists and reply templates it names load too."""
    from reclaim.app import App

    app = App(settings)
    _ = app.triager, app.drafter  # a language without word lists or templates fails here, before "OK"
    aliases = ", ".join(settings.brand.aliases) or "-"
    console.print(f"[bold]Brand[/]: {escape(settings.brand.name)} (aliases: {escape(aliases)})")
    console.print(f"[bold]Database[/]: {escape(settings.database.url.split('://')[0])}")
    console.print(f"[bold]Languages[/]: {escape(', '.join(settings.triage.languages))}")
    console.print(f"[bold]First response SLA[/]: {format_duration(settings.sla.first_response)}")
    console.print(f"[bold]Published by policy[/]: {escape(_policy(settings))}")
    bot = settings.telegram.bot_username
    links = f"https://t.me/{bot}?start=…" if bot else "none (telegram.bot_username not set)"
    console.print(f"[bold]Private chat links[/]: {escape(links)}")
    table = Table("source", "kind", "every", "match", "where")
    for s in settings.sources:
        name = s.name + ("" if s.enabled else " (disabled)")
        plain_row(table, name, s.kind, format_duration(s.every), s.match, REDACT(where(s)))  # a key in a url
    console.print(table)
    console.print(f"[green]config OK[/]: {len(settings.sources)} source(s)")
    return 0


def print_outcomes(outcomes: Sequence[Outcome], console: Console) -> None:
    if console.is_terminal:
        table = Table("source", "result", "items", "new", "complaints", "time")
        for o in outcomes:
            result = (
                ("[green]not modified[/]" if o.not_modified else f"[green]HTTP {o.status}[/]")
                if o.ok
                else f"[red]{escape(str(o.error))}[/]"  # a server's words are never read as markup
            )
            if o.ok and o.warnings:
                result += f" [yellow]({len(o.warnings)} warning(s))[/]"
            table.add_row(escape(o.source), result, str(o.items), str(o.added), str(o.complaints), f"{o.seconds:.2f}s")
        console.print(table)
    else:
        for o in outcomes:
            if o.ok:
                state = "not-modified" if o.not_modified else f"http-{o.status}"
                line = f"{o.source}: ok {state} items={o.items} new={o.added} complaints={o.complaints}"
                line += f" warnings={len(o.warnings)}" if o.warnings else ""
            else:
                line = f"{o.source}: FAILED {o.error}"
            print(line)
    failed = [o.source for o in outcomes if not o.ok]
    added = sum(o.added for o in outcomes)
    opened = sum(o.complaints for o in outcomes)
    console.print(
        f"{len(outcomes)} source(s) polled, {added} new mention(s), {opened} new complaint(s)"
        + (f"; failed: {', '.join(failed)}" if failed else ""),
        markup=False,
    )


async def poll_once(
    app: App, names: Sequence[str] | None, console: Console, workers: Executor | None = None
) -> list[Outcome]:
    from reclaim.poller import Poller

    poller = Poller(app, workers=workers)
    sources = _to_poll(app, names)
    try:
        if console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            columns = (
                TextColumn("polling"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console, transient=True) as progress:
                task = progress.add_task("poll", total=len(sources))
                return await poller.poll(sources, on_done=lambda _o: progress.advance(task))
        return await poller.poll(sources)
    finally:
        await poller.aclose()


def _stopped(_signum: int, _frame: object) -> None:
    """SIGTERM during `poll --once`: the poll is cancelled, and its workers and connections are
    shut down on the way out (the default would leave the workers waiting for ever)."""
    raise SystemExit(128 + signal.SIGTERM)


def _to_poll(app: App, names: Sequence[str] | None) -> list[SourceOptions]:
    """The sources `poll --once` reads: those named, else every enabled one (pushed kinds
    arrive with `reclaim run`)."""
    sources = [s for s in app.settings.sources if (names and s.name in names) or (not names and s.enabled)]
    return REGISTRY.polled(sources)


def poll(app: App, args: argparse.Namespace, console: Console) -> int:
    """`reclaim poll --once`: exit 0 when every source was read, 3 when some failed."""
    unknown = [n for n in args.source or [] if n not in {s.name for s in app.settings.sources}]
    if unknown:
        print(f"no source named {', '.join(unknown)} in the config", file=sys.stderr)
        return EXIT_CONFIG
    import asyncio  # here, not at the top: check-config lives in this module too

    from reclaim.poller import fork_workers

    fetched = any(isinstance(REGISTRY.of(s), FetchKind) for s in _to_poll(app, args.source))
    workers = fork_workers(app) if fetched else None  # before the event loop and any thread
    previous = signal.signal(signal.SIGTERM, _stopped)  # `timeout 60 reclaim poll --once`, a kill
    try:
        outcomes = asyncio.run(poll_once(app, args.source, console, workers))
    finally:
        signal.signal(signal.SIGTERM, previous)
    print_outcomes(outcomes, console)
    return 0 if all(o.ok for o in outcomes) else EXIT_SOURCES_FAILED


def run(app: App, args: argparse.Namespace, console: Console) -> int:
    """`reclaim run`: until SIGTERM or Ctrl-C."""
    import asyncio

    from reclaim.scheduler import Runner

    if not app.settings.telegram.token:
        console.print("No Telegram token (TELEGRAM_BOT_TOKEN is not set): running the watchers alone.")
    asyncio.run(Runner(app).run())
    return 0


def sources(app: App, args: argparse.Namespace, console: Console) -> int:
    health = app.views.source_health([s.name for s in app.settings.sources])
    if args.json:
        _print_json(health)
        return 0
    table = Table("source", "last success", "last error", "failures", "next attempt", "seen", "added")
    for h in health:
        plain_row(table, h["name"], h["last_success_at"] or "-", h["last_error"] or "-",
                  str(h["consecutive_failures"]), h["next_attempt_at"] or "-", str(h["items_seen"]),
                  str(h["mentions_added"]))  # fmt: skip
    console.print(table)
    _print_status(app.views.statuses(), console)
    return 0


def status(app: App, args: argparse.Namespace, console: Console) -> int:
    rows = app.views.statuses()
    if args.json:
        _print_json(rows)
    else:
        _print_status(rows, console, empty="no `reclaim run` has reported yet")
    return 0


def mentions(app: App, args: argparse.Namespace, console: Console) -> int:
    """`mentions list` and `mentions promote ID`."""
    if args.action == "promote":
        return _promote(app, args, console)
    rows = app.views.mentions(kind=args.kind, source=args.source, limit=args.limit, lane=args.lane)
    if args.json:
        _print_json(rows)
        return 0
    table = Table("id", "source", "kind", "lang", "severity", "category", "flags", "text")
    for r in rows:
        plain_row(table, str(r["id"]), r["source"], r["kind"], r["language"], r["severity"], r["category"],
                  ",".join(r["flags"]), (r["text"] or "")[:70])  # fmt: skip
    console.print(table)
    return 0


def _promote(app: App, args: argparse.Namespace, console: Console) -> int:
    from core.inbox import Staff

    found = app.mentions.promote(args.id, Staff(0, "cli"))
    if found is None:
        print(f"error: no mention with id {args.id}", file=sys.stderr)
        return 1
    complaint_id, kind = found
    if kind != "complaint":
        print(f"error: mention {args.id} is already {kind} case #{complaint_id} (answered or thanked)", file=sys.stderr)
        return 1
    if args.json:  # the contract: exactly {"complaint_id": N}
        _print_json({"complaint_id": complaint_id})
        return 0
    if app.views.complaint_status(complaint_id) == "rejected":
        console.print(f"complaint #{complaint_id} (rejected earlier; it stays rejected, and triage now learns "
                      "that it is a complaint)", markup=False)  # fmt: skip
    else:
        console.print(f"complaint #{complaint_id}", markup=False)
    return 0


def complaints(app: App, args: argparse.Namespace, console: Console) -> int:
    """`complaints list` and `complaints show ID`."""
    if args.action == "list":
        rows = app.views.complaints(status=args.status, limit=args.limit)
        if args.json:
            _print_json(rows)
            return 0
        table = Table("id", "status", "lang", "severity", "category", "due", "draft")
        for r in rows:
            draft = _gist(r["draft"]["text"]) if r["draft"] else "-"
            plain_row(table, str(r["id"]), r["status"], r["language"], r["severity"], r["category"],
                      r["first_response_due"][:16], draft)  # fmt: skip
        console.print(table)
        return 0
    detail = app.views.complaint_detail(args.id)
    if detail is None:
        console.print(f"[red]no complaint with id {args.id}[/]")
        return 1
    if args.json:
        _print_json(detail)
    else:
        _show(detail, console)
    return 0


def _print_status(rows: Sequence[dict[str, Any]], console: Console, empty: str | None = None) -> None:
    for r in rows:
        line = f"{r['component']}: {r['state']} since {r['since'][:19]}"
        line += f" — {r['detail']}" if r["detail"] else ""
        line += f"; next attempt {r['next_attempt_at'][:19]}" if r["next_attempt_at"] else ""
        console.print(line, markup=False)
    if not rows and empty:
        console.print(empty)


def _gist(draft: str) -> str:
    """The draft's body in a table cell: its second paragraph (after the greeting), or the first."""
    parts = [p for p in draft.split("\n\n") if p.strip()]
    return (parts[1] if len(parts) > 1 else parts[0] if parts else "")[:60]


def _show(d: dict[str, Any], console: Console) -> None:
    m = d["mention"] or {}
    console.print(
        f"[bold]Complaint {d['id']}[/] — {d['status']}, {d['severity']}, {d['category']}, "
        f"{d['language']}, flags: {', '.join(d['flags']) or '-'}"
    )
    # what sources wrote is never read as rich markup ("[/bold]" in an author's name)
    console.print(f"source: {m.get('source')}  link: {m.get('url')}  author: {m.get('author')}", markup=False)
    console.print(f"first response due: {d['first_response_due']}")
    console.print(f"[bold]They wrote[/]: {escape(str(m.get('text')))}")
    if d["draft"]:
        console.print(f"[bold]Draft ({d['draft']['status']})[/]:")
        console.print(d["draft"]["text"], markup=False)
    console.print("[bold]Events[/]:")
    for e in d["events"]:
        console.print(f"  {e['at']}  {e['kind']}  by {e['actor']}", markup=False)


def privacy(app: App, args: argparse.Namespace, console: Console) -> int:
    """`customers forget ID` and `purge`."""
    now = datetime.now(UTC)
    try:
        with app.uow() as uow:
            if args.command == "customers":
                n = uow.privacy.forget_customer(args.id, now)
                console.print(f"customer {args.id}: personal data erased from {n} complaint(s)")
                return 0
            result = uow.privacy.purge(now, app.settings.retention)
    finally:
        app.close()
    if args.json:
        _print_json({"anonymised": result.anonymised, "mentions_deleted": result.mentions_deleted})
    else:
        console.print(
            f"anonymised {result.anonymised} finished complaint(s) and deleted {result.mentions_deleted} "
            f"mention(s) older than {format_duration(app.settings.retention)}"
        )
    return 0
