"""`reclaim doctor` and `reclaim migrate --check` as a new user runs them: against the local Bot
API and local sources, each finding one line saying what to fix, the token never printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reclaim.cli import main
from sandbox.sites import Page, SiteServer
from sandbox.telegram import TOKEN, BotApiServer
from tests.e2e.test_staff_inbox import ANNA, STAFF, people

GROUP = -1001000000077


def _config(tmp_path: Path, tg: BotApiServer, site: SiteServer, **telegram: Any) -> str:
    data = {
        "brand": {"name": "Nordlys"},
        "database": {"url": f"sqlite:///{tmp_path / 'journal.db'}"},
        "web": {"enabled": False},
        "telegram": {
            "bot_username": "nordlys_care_bot",
            "base_url": tg.base_url,
            "staff_chat_id": STAFF,
            "staff_user_ids": [ANNA],
            **telegram,
        },
        "sources": [
            {"name": "forum", "kind": "rss", "url": site.url("/feed.xml")},
            {"name": "gone", "kind": "rss", "url": site.url("/missing.xml")},
            {"name": "community", "kind": "telegram_group", "chats": [GROUP]},
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def test_doctor_says_what_to_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    with BotApiServer() as tg, SiteServer() as site:
        people(tg)  # the staff chat exists; the community group does not (the bot is not in it)
        site.add(
            "/feed.xml", Page(b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>')
        )
        config = _config(tmp_path, tg, site)
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        assert main(["--config", config, "doctor"]) == 1
        out = capsys.readouterr().out
        assert "warn journal: 12 migration(s) pending" in out
        assert "ok   telegram: the token is @" in out and f"ok   staff chat: {STAFF}" in out
        assert f"FAIL group of community: {GROUP}: the bot cannot see it" in out
        assert "ok   source forum: HTTP 200" in out
        assert "FAIL source gone: " in out and "check its url" in out
        assert "2 problem(s) to fix" in out
        assert TOKEN not in out

        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:wrong-token-value")
        assert main(["--config", config, "doctor"]) == 1
        out = capsys.readouterr().out
        assert "FAIL telegram: HTTP 401" in out and "check TELEGRAM_BOT_TOKEN" in out
        assert "wrong-token-value" not in out


def test_migrate_check_then_migrate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with BotApiServer() as tg, SiteServer() as site:
        config = _config(tmp_path, tg, site)
    assert main(["--config", config, "migrate", "--check"]) == 1
    out = capsys.readouterr().out
    assert "12 migration(s) pending, from an empty journal" in out and "0012 Several workers" in out
    assert not (tmp_path / "journal.db").exists() or main(["--config", config, "migrate", "--check"]) == 1
    assert main(["--config", config, "migrate"]) == 0
    assert "migrated from an empty journal to 0012" in capsys.readouterr().out
    assert main(["--config", config, "migrate", "--check"]) == 0
    assert "up to date (revision 0012)" in capsys.readouterr().out


def test_a_wrong_base_url_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    with SiteServer() as site:  # a web server that is not the Bot API: HTML, and a trickle
        site.add("/bot" + TOKEN + "/getMe", Page(b"<html>hello</html>", content_type="text/html"))
        tg_like = type("T", (), {"base_url": site.url("/bot")})()
        config = _config(tmp_path, tg_like, site)  # type: ignore[arg-type]
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        assert main(["--config", config, "doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL telegram: HTTP 501, not the Bot API's answer: check telegram.base_url" in out  # it knows no POST
    assert TOKEN not in out


def test_migrate_check_on_an_unreachable_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    path = tmp_path / "config.yaml"
    url = "postgresql+psycopg://reclaim:${DB_PASSWORD}@127.0.0.1:9/none"  # nothing listens on port 9
    path.write_text(yaml.safe_dump({"brand": {"name": "Nordlys"}, "database": {"url": url}}), encoding="utf-8")
    monkeypatch.setenv("DB_PASSWORD", "s3cr3t-pw")
    assert main(["--config", str(path), "migrate", "--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cannot open the journal (") and "check database.url" in err
    assert len(err.strip().splitlines()) == 1 and "s3cr3t-pw" not in err


def test_a_key_in_a_source_url_is_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.setenv("FEED_KEY", "FEEDSECRET42")
    monkeypatch.setenv("COLUMNS", "250")
    path = tmp_path / "config.yaml"
    data = {
        "brand": {"name": "Nordlys"},
        "database": {"url": f"sqlite:///{tmp_path / 'j.db'}"},
        "sources": [{"name": "shop", "kind": "rss", "url": "https://shop.example/feed?apikey=${FEED_KEY}"}],
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["--config", str(path), "check-config"]) == 0
    out = capsys.readouterr().out
    assert "apikey=***" in out and "FEEDSECRET42" not in out
