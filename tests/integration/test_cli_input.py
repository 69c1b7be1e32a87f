"""The command line on awkward journals and input: drafts of one paragraph, markup-looking text
from sources, ids past 64 bits, months in other digits, sources not polled yet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import update

from reclaim.app import App
from reclaim.cli import main
from sandbox.sites import Page, SiteServer
from storage.tables import Draft
from tests.conftest import poll_all
from tests.integration.test_poll import feed


def setup(db_url: str, site: SiteServer, make_app: Any, tmp_path: Path) -> tuple[App, list[str]]:
    body = feed(("1", "Nordlys lost my order", "No parcel, terrible service.")).replace(
        b"<title>Nordlys lost", b"<author>[/bold] [red]x</author><title>Nordlys lost"
    )
    sources = [{"name": "community", "kind": "rss", "url": site.add("/f.xml", Page(body))}]
    app = make_app(db_url, sources)
    sources.append({"name": "later", "kind": "rss", "url": site.url("/never.xml")})  # configured since
    assert poll_all(app)[0].ok
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"brand": {"name": "Nordlys"}, "database": {"url": db_url}, "sources": sources}))
    return app, ["--config", str(config)]


def test_awkward_journal_contents_are_shown_not_crashed_on(
    db_url: str, site: SiteServer, make_app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: a one-paragraph draft was IndexError in `complaints list`, and an author named
    "[/bold] [red]x" was a MarkupError in `complaints show`."""
    app, cli = setup(db_url, site, make_app, tmp_path)
    with app.sessions.begin() as s:
        s.execute(update(Draft).values(text="Sorry about this, we will fix it."))
    assert main([*cli, "complaints", "list"]) == 0
    assert "fix it." in capsys.readouterr().out
    assert main([*cli, "complaints", "show", "1"]) == 0
    out = capsys.readouterr().out
    assert "[/bold] [red]x" in out and "They wrote" in out and "[bold]" not in out
    assert main([*cli, "mentions", "list"]) == 0
    assert main([*cli, "sources"]) == 0
    out = capsys.readouterr().out
    assert "community" in out and "later" in out  # configured, never polled: listed too


@pytest.mark.parametrize(
    "args",
    [["complaints", "show", "99999999999999999999"], ["outbox", "retry", "99999999999999999999"],
     ["customers", "forget", "１２"], ["report", "--month", "٢٠٢٦-١١"], ["report", "--month", "2026-13"],
     ["mentions", "list", "--limit", "99999999999999999999999"], ["outbox", "list", "--limit", "0"]],
)  # fmt: skip
def test_ids_and_months_are_checked_before_anything_runs(
    db_url: str, site: SiteServer, make_app: Any, tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    _app, cli = setup(db_url, site, make_app, tmp_path)
    assert main([*cli, *args]) == 2
    err = capsys.readouterr().err
    assert "is not an id" in err or "write the month as YYYY-MM" in err or "give a number of rows" in err
