"""What an outside probe of the product found (a source, a config or a terminal used against
the user), each checked as the user would meet it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reclaim.cli import main
from reclaim.config import settings_from_text
from reclaim.yamlsource import ConfigError
from sandbox.sites import Page, SiteServer
from tests.conftest import poll_all
from tests.integration.test_poll import feed


class Recorder(BaseHTTPRequestHandler):
    """Another host: records the headers it is sent and answers an empty feed."""

    seen: list[dict[str, str]] = []  # noqa: RUF012 - one recorder per test

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        body = feed()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def other_host() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    handler = type("Handler", (Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml", seen
    server.shutdown()
    server.server_close()


def test_credentials_do_not_follow_a_redirect_to_another_host(
    db_url: str, site: SiteServer, make_app: Any, other_host: tuple[str, list[dict[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Before: httpx dropped Authorization and Cookie, but an X-Api-Key went to the other host."""
    target, seen = other_host
    url = site.add("/moved.xml", Page(b"", status=302, headers={"Location": target}))
    source = {
        "name": "api",
        "kind": "rss",
        "url": url,
        "headers": {"X-Api-Key": "key-CCCC3333", "Authorization": "Bearer tok-1234", "Accept": "*/*"},
    }
    app = make_app(db_url, [source])
    (outcome,) = poll_all(app)
    assert outcome.ok and len(seen) == 1
    sent = {k.lower(): v for k, v in seen[0].items()}
    assert "x-api-key" not in sent and "authorization" not in sent
    assert sent.get("accept") == "*/*"  # what is not a credential still goes


def test_control_characters_from_a_source_never_reach_the_journal_or_a_terminal(
    db_url: str, site: SiteServer, make_app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: clear-screen, window-title and hyperlink escapes came out raw in `mentions list`."""
    evil = "Nordlys \x1b[2J\x1b[31mlost\x1b]0;pwned\x07 my \x00order\u202e \x08again"
    url = site.add("/feed.xml", Page(feed(("1", "Nordlys \x1b]8;;http://x\x1b\\", evil))))
    app = make_app(db_url, [{"name": "blog", "kind": "rss", "url": url}])
    (outcome,) = poll_all(app)
    assert outcome.ok and outcome.added == 1
    rows = app.views.mentions(kind=None, source=None, limit=None)
    shown = rows[0]["text"] + (rows[0]["title"] or "")
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch == "\u202e" for ch in shown), repr(shown)
    assert "lost" in shown and "order" in shown


def test_a_status_line_is_never_read_as_markup(tmp_path: Path, site: SiteServer) -> None:
    """Before: a server answering "503 [/bold] oops" ended `poll --once` with a MarkupError (exit 1)."""
    url = site.add("/x.xml", Page(b"down", "text/plain", status=503))
    site.routes["/x.xml"] = Page(b"down", "text/plain", status=503)
    config = tmp_path / "config.yaml"
    config.write_text(
        f'brand: {{name: Nordlys}}\ndatabase: {{url: "sqlite:///{tmp_path / "j.db"}"}}\nweb: {{enabled: false}}\n'
        f'polling: {{retries: 0, workers: 0}}\nsources:\n  - {{name: x, kind: rss, url: "{url}"}}\n',
        encoding="utf-8",
    )
    from reclaim import cli_journal
    from reclaim.poller import Outcome

    console = cli_journal.Console(record=True, width=200, force_terminal=True)
    cli_journal.print_outcomes(
        [Outcome(source="x", ok=False, error="HTTP 503 [/bold] oops [link=http://e.x]y")], console
    )
    assert "[/bold] oops [link=http://e.x]y" in console.export_text()


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ("retention: 0d", "retention: at least 1 day"),
        ("retention: 12m", "retention: at least 1 day"),
        ("retention: 99999999999d", "retention: "),
        ("sources:\n  - {name: a, kind: rss, url: 'http://127.0.0.1:99999/f.xml'}", "port"),
    ],
)
def test_config_values_that_would_do_harm_or_crash_are_refused_by_key(config: str, problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_text("brand: {name: Nordlys}\n" + config, env={})
    assert problem in str(err.value)


def test_config_errors_never_print_a_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Before: `url: "htp://…?t=${TELEGRAM_BOT_TOKEN}"` printed the token inside the error."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRETSECRET")
    config = tmp_path / "config.yaml"
    config.write_text(
        'brand: {name: Nordlys}\nsources:\n  - {name: a, kind: rss, url: "htp://e.x/?t=${TELEGRAM_BOT_TOKEN}"}\n',
        encoding="utf-8",
    )
    assert main(["--config", str(config), "check-config"]) == 2
    out = capsys.readouterr()
    assert "SECRETSECRET" not in out.out + out.err and "sources[0].url" in out.err


def test_one_deeply_nested_json_ld_block_does_not_fail_the_page(db_url: str, site: SiteServer, make_app: Any) -> None:
    """Before: a block of 5,000 nested brackets failed the whole page with a RecursionError."""
    review = {"@type": "Review", "reviewBody": "Nordlys lost my parcel", "author": {"name": "Kim"}}
    page = ('<script type="application/ld+json">' + "[" * 5000 + "]" * 5000 + "</script>"
            f'<script type="application/ld+json">{json.dumps(review)}</script>')  # fmt: skip
    url = site.add("/r.html", Page(page.encode(), "text/html"))
    app = make_app(db_url, [{"name": "r", "kind": "html", "url": url, "extract": "jsonld", "match": "all"}])
    (outcome,) = poll_all(app)
    assert outcome.ok and outcome.items == 1


def test_check_config_says_ok_only_when_the_word_lists_load_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: "config OK" was printed, then the missing word list failed the command."""
    config = tmp_path / "config.yaml"
    config.write_text("brand: {name: 'Acme [/bold]'}\ntriage: {languages: [xx]}\n", encoding="utf-8")
    assert main(["--config", str(config), "check-config"]) == 2
    out = capsys.readouterr()
    assert "config OK" not in out.out and "xx" in out.err


def test_names_with_markup_are_shown_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Before: a brand "Acme [/bold]" crashed check-config; "[red]X" lost its brackets in lists."""
    config = tmp_path / "config.yaml"
    config.write_text(
        f"brand: {{name: 'Acme [/bold]', aliases: ['acme [dk]']}}\ndatabase: {{url: 'sqlite:///{tmp_path / 'j.db'}'}}\n",
        encoding="utf-8",
    )
    assert main(["--config", str(config), "check-config"]) == 0
    assert main(["--config", str(config), "actions", "add", "--title", "[red]Fix it", "--cause", "policy",
                 "--owner", "[b]Bo"]) == 0  # fmt: skip
    monkeypatch.setenv("RECLAIM_NEW_PASSWORD", "a long enough password")
    assert main(["--config", str(config), "users", "add", "[i]eve", "--role", "staff"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "actions", "list"]) == 0
    assert main(["--config", str(config), "users", "list"]) == 0
    out = capsys.readouterr().out
    assert "[red]Fix it" in out and "[b]Bo" in out and "[i]eve" in out


def test_a_report_written_nowhere_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: FileNotFoundError and IsADirectoryError tracebacks (exit 1)."""
    config = tmp_path / "config.yaml"
    config.write_text(
        f"brand: {{name: Nordlys}}\ndatabase: {{url: 'sqlite:///{tmp_path / 'j.db'}'}}\n", encoding="utf-8"
    )
    for out in (str(tmp_path / "no" / "such" / "r.html"), str(tmp_path)):
        assert main(["--config", str(config), "report", "--month", "2026-11", "--out", out]) == 2
        assert "cannot write" in capsys.readouterr().err
    assert main(["--config", str(config), "faq", "export", "--out", str(tmp_path / "no" / "x.md")]) == 2
