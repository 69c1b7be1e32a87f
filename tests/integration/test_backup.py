"""`reclaim backup --out FILE`: a consistent, checked copy of the SQLite journal that holds what the
journal holds; never over an existing file; on PostgreSQL it names pg_dump instead."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from core.model import Severity
from reclaim.app import App
from reclaim.cli import main
from tests.conftest import make_settings
from tests.integration.test_policy_journal import NOW, _open


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"brand": {"name": "Nordlys"}, "database": {"url": url}}), encoding="utf-8")
    return path


def test_a_backup_holds_the_journal_and_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'reclaim.db'}"
    app = App(make_settings(url, []))
    _open(app, 3, (), Severity.NORMAL, NOW)
    app.close()
    config, out = _config(tmp_path, url), tmp_path / "copy.db"
    assert main(["--config", str(config), "backup", "--out", str(out)]) == 0
    assert "3 complaint(s), integrity ok" in capsys.readouterr().out
    with sqlite3.connect(out) as db:
        assert db.execute("SELECT count(*) FROM complaints").fetchone()[0] == 3
    assert main(["--config", str(config), "backup", "--out", str(out)]) == 2
    assert "exists already" in capsys.readouterr().err


def test_on_postgresql_it_names_pg_dump(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:5432/nosuchdb")
    assert main(["--config", str(config), "backup", "--out", str(tmp_path / "x.dump")]) == 2
    assert "pg_dump" in capsys.readouterr().err and not (tmp_path / "x.dump").exists()
