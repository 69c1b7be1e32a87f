"""The `reclaim` command line: the parser and the dispatch to each command's module, which is
imported only when that command runs (so `--help` and a usage error start in a blink)."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

from reclaim import __version__, cli_backup, cli_doctor, cli_outbox, cli_review, cli_triage, cli_web
from reclaim.cli_args import journal_id, limit, record_id
from reclaim.redact import REDACT, JsonFormatter, RedactingFormatter, install_excepthooks

EXIT_CONFIG = 2
EXIT_SOURCES_FAILED = 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="reclaim", description="Watch where customers complain and answer them well.")
    p.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $RECLAIM_CONFIG, else ./config.yaml)",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    p.add_argument("--version", action="version", version=f"reclaim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("check-config", help="validate the config and print a summary")
    poll = sub.add_parser("poll", help="poll the sources")
    poll.add_argument("--once", action="store_true", required=True, help="poll every source once, then exit")
    poll.add_argument("--source", action="append", metavar="NAME", help="only this source (repeatable)")
    sub.add_parser("run", help="keep polling every source on its own interval")
    sources = sub.add_parser("sources", help="health of each source")
    sources.add_argument("--json", action="store_true")
    status = sub.add_parser("status", help="how `reclaim run`'s parts are doing (the Telegram bot)")
    status.add_argument("--json", action="store_true")
    _journal_parsers(sub)
    purge = sub.add_parser("purge", help="anonymise finished complaints older than `retention` (run daily by `run`)")
    purge.add_argument("--json", action="store_true")
    cli_review.add_parsers(sub)
    cli_web.add_parsers(sub)
    cli_outbox.add_parsers(sub)
    cli_triage.add_parsers(sub)
    cli_backup.add_parsers(sub)
    cli_doctor.add_parsers(sub)
    demo = sub.add_parser("demo", help="run on bundled sample sources served locally (no accounts needed)")
    demo.add_argument("--dir", default=".reclaim-demo", help="where the demo keeps its database")
    demo.add_argument(
        "--port", type=int, default=0, help="port of the local Telegram and its web page (default: any free)"
    )
    demo.add_argument(
        "--stay",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep running after the walk-through (default: when run from a terminal)",
    )
    return p


def _journal_parsers(sub: Any) -> None:
    """`mentions`, `complaints` and `customers`."""
    mentions = sub.add_parser("mentions", help="the journal's mentions").add_subparsers(dest="action", required=True)
    ml = mentions.add_parser("list")
    ml.add_argument("--json", action="store_true")
    ml.add_argument("--kind", choices=["complaint", "praise", "question", "other"])
    ml.add_argument("--source")
    ml.add_argument("--limit", type=limit)
    ml.add_argument("--lane", action="store_true", help="only the mentions lane's open ones")
    mp = mentions.add_parser("promote", help="make a mention a complaint (what It's a complaint does)")
    mp.add_argument("id", type=journal_id)
    mp.add_argument("--json", action="store_true")
    complaints = sub.add_parser("complaints", help="the journal's complaints").add_subparsers(
        dest="action", required=True
    )
    cl = complaints.add_parser("list")
    cl.add_argument("--json", action="store_true")
    cl.add_argument("--status")
    cl.add_argument("--limit", type=limit)
    cs = complaints.add_parser("show")
    cs.add_argument("id", type=journal_id)
    cs.add_argument("--json", action="store_true")
    customers = sub.add_parser("customers", help="customers of the private chat").add_subparsers(
        dest="action", required=True
    )
    forget = customers.add_parser("forget", help="erase a customer's personal data (anonymous statistics stay)")
    forget.add_argument("id", type=record_id, help="the customer's Telegram user id")


def setup_logging(verbose: int) -> None:
    level = logging.INFO if verbose else logging.WARNING
    level = logging.DEBUG if verbose > 1 else level
    handler = logging.StreamHandler(sys.stderr)
    # every line, tracebacks included, with the known secrets replaced (reclaim.redact)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    REDACT.add_environment()
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # request lines carry the bot token in their URL; they are only useful when debugging
    install_excepthooks()
    for noisy in ("httpx", "httpcore", "telegram", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose > 2 else logging.WARNING)


def entry() -> NoReturn:
    """The `reclaim` console script and `python -m reclaim`: main(), then a quick exit."""
    sys.stdout = _ReaderMayLeave(sys.stdout)
    exit_now(main())


class _ReaderMayLeave:
    """Standard output whose reader may stop early (`reclaim … | head -1`): what is left is
    dropped, and the command goes on to its own end and exit code, without a traceback."""

    def __init__(self, stream: Any) -> None:
        self._stream, self._gone = stream, False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                return int(self._stream.write(text))
            except BrokenPipeError:
                self._leave()
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._leave()

    def _leave(self) -> None:
        self._gone = True
        with contextlib.suppress(OSError, ValueError):  # later writes, ours or Python's, go nowhere
            os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def exit_now(code: int) -> NoReturn:
    """Leave as Python would, minus its tear-down of every module and object (0.2–0.3 s of a
    short command such as `poll --once` from cron or `check-config`; see bench/cli.py): other
    threads are waited for, the atexit handlers run (logging is flushed there), standard
    output and error are flushed, and the exit code is kept."""
    threading._shutdown()  # type: ignore[attr-defined]  # what Python's exit does first: join the threads
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # `reclaim … | head` stopped reading: what it wanted, it has
        pass
    except OSError as exc:  # a full disk under `reclaim … > file` must not look like success
        with contextlib.suppress(OSError, ValueError):
            print(f"reclaim: the output could not be written: {exc}", file=sys.stderr)
        code = code or 120  # what Python's own exit answers
    except ValueError:  # standard output was closed by the command itself
        pass
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; an unexpected error is one logged traceback with no secret in it."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # a usage error (exit 2), --help or --version (0), as a return code
        return stop.code if isinstance(stop.code, int) else 2
    setup_logging(args.verbose)
    try:
        return _main(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from reclaim.web_server import ListenError
        from reclaim.workers import StartError

        if not isinstance(exc, ListenError | StartError):
            logging.getLogger("reclaim").critical("reclaim stopped on an unexpected error", exc_info=True)
            return 1
        print(f"cannot start: {exc}", file=sys.stderr)
        return EXIT_CONFIG


# command → "module:function" run with (app, args, console); imported only when that command runs
COMMANDS = {
    "poll": "reclaim.cli_journal:poll",
    "run": "reclaim.cli_journal:run",
    "sources": "reclaim.cli_journal:sources",
    "status": "reclaim.cli_journal:status",
    "mentions": "reclaim.cli_journal:mentions",
    "complaints": "reclaim.cli_journal:complaints",
    "customers": "reclaim.cli_journal:privacy",
    "purge": "reclaim.cli_journal:privacy",
    "web": "reclaim.cli_web:run",
    "users": "reclaim.cli_web:run",
    "outbox": "reclaim.cli_outbox:run",
    "report": "reclaim.cli_review:run",
    "actions": "reclaim.cli_review:run",
    "faq": "reclaim.cli_review:run",
    "triage": "reclaim.cli_triage:run",
    "backup": "reclaim.cli_backup:run",
    "migrate": "reclaim.cli_doctor:migrate",
    "doctor": "reclaim.cli_doctor:doctor",
}


def _main(args: argparse.Namespace) -> int:
    import importlib

    from rich.console import Console

    from reclaim.config import config_path, load_settings
    from reclaim.yamlsource import ConfigError

    console = Console(stderr=False, highlight=False)
    if args.command == "demo":
        from reclaim.demo import run_demo

        return run_demo(args.dir, console, port=args.port, stay=args.stay)
    try:
        settings = load_settings(config_path(args.config))
        REDACT.add(settings.secret_values())
        if settings.logging.format == "json":
            for handler in logging.getLogger().handlers:
                handler.setFormatter(JsonFormatter())
    except ConfigError as exc:
        print(REDACT(f"config error:\n{exc}"), file=sys.stderr)  # a value from ${VAR} may be a secret
        return EXIT_CONFIG
    from core.lexicon import LexiconError
    from reclaim.app import App
    from responders.drafting import TemplateError

    try:
        if args.command == "check-config":
            from reclaim.cli_journal import check_config

            return check_config(settings, console)
        module, name = COMMANDS[args.command].split(":")
        command = getattr(importlib.import_module(module), name)
        app = App(settings)
        try:
            return int(command(app, args, console))
        finally:  # its connections end properly (PostgreSQL logs the ones that just vanish)
            app.close()
    except (ConfigError, LexiconError, TemplateError) as exc:
        print(REDACT(f"config error:\n{exc}"), file=sys.stderr)  # a value from ${VAR} may be a secret
        return EXIT_CONFIG
