"""`reclaim backup --out FILE`: a consistent copy of the SQLite journal, taken while `reclaim run`
goes on writing (SQLite's VACUUM INTO reads one snapshot), then checked before it is reported.
A journal on PostgreSQL is backed up with pg_dump, which this command names instead."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from reclaim.app import App


def add_parsers(sub: Any) -> None:
    backup = sub.add_parser("backup", help="copy the SQLite journal to a new file (PostgreSQL: use pg_dump)")
    backup.add_argument("--out", required=True, metavar="FILE", help="the copy; never an existing file")


def run(app: App, args: argparse.Namespace, console: Console) -> int:
    url = app.settings.database.url
    if not url.startswith("sqlite"):
        print("the journal is on PostgreSQL: back it up with pg_dump, e.g. pg_dump -Fc -f reclaim.dump DBNAME",
              file=sys.stderr)  # fmt: skip
        return 2
    out = Path(args.out).expanduser()
    if out.exists():
        print(f"{out} exists already: name a new file (a backup never overwrites one)", file=sys.stderr)
        return 2
    if not out.parent.is_dir():
        print(f"no folder {out.parent} to write the backup in", file=sys.stderr)
        return 2
    journal = app.engine.url.database  # the journal is made and migrated first if it is new
    if not journal or journal == ":memory:":
        print("the journal is in memory (database.url sqlite://): there is nothing to back up", file=sys.stderr)
        return 2
    _copy(Path(journal), out)
    check, complaints = _verify(out)
    if check != "ok":
        print(f"the copy at {out} failed SQLite's integrity check: {check}", file=sys.stderr)
        return 1
    console.print(f"journal copied to {out}: {out.stat().st_size:,} bytes, {complaints} complaint(s), integrity ok")
    return 0


def _copy(journal: Path, out: Path) -> None:
    """VACUUM INTO on a connection of its own, outside any transaction (SQLite requires it)."""
    import sqlite3

    db = sqlite3.connect(journal, isolation_level=None, timeout=30)
    try:
        db.execute("VACUUM INTO ?", (str(out),))
    finally:
        db.close()


def _verify(path: Path) -> tuple[str, int]:
    """SQLite's integrity check of the copy, and how many complaints it holds."""
    import sqlite3

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        check = str(db.execute("PRAGMA integrity_check").fetchone()[0])
        complaints = int(db.execute("SELECT count(*) FROM complaints").fetchone()[0])
    return check, complaints
