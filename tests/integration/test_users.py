"""Dashboard logins from the command line: added with a role, refused with a wrong password,
disabled and enabled again, given a new password; only an Argon2 hash is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from reclaim.cli import main
from services.accounts import Accounts
from storage.db import session_factory
from storage.repositories import SqlUnitOfWork
from storage.tables import WebUser


def test_logins_from_the_command_line(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"brand: {{name: Nordlys}}\ndatabase: {{url: '{db_url}'}}\n", encoding="utf-8")
    run = ["--config", str(config), "users"]
    monkeypatch.setenv("RECLAIM_NEW_PASSWORD", "short")
    assert main([*run, "add", "anna", "--role", "staff"]) == 2  # too short
    monkeypatch.setenv("RECLAIM_NEW_PASSWORD", "a long enough secret")
    # a Telegram user id is positive; a web-only login acts under minus its own id, so "-2" would be login #2
    assert main([*run, "add", "eve", "--role", "staff", "--telegram-id", "-2"]) == 2
    assert main([*run, "add", "anna", "--role", "staff", "--telegram-id", "111"]) == 0
    assert main([*run, "add", "anna", "--role", "manager"]) == 2  # taken
    engine = create_engine(db_url)
    try:
        sessions = session_factory(engine)
        users = Accounts(lambda: SqlUnitOfWork(sessions))
        with session_factory(engine)() as s:
            stored = s.scalars(select(WebUser.password_hash)).one()
        assert stored.startswith("$argon2id$") and "a long enough secret" not in stored
        assert users.verify("anna", "a long enough secret") is not None
        assert users.verify("anna", "a long enough secreT") is None
        assert main([*run, "disable", "anna"]) == 0
        assert users.verify("anna", "a long enough secret") is None
        assert main([*run, "enable", "anna"]) == 0
        monkeypatch.setenv("RECLAIM_NEW_PASSWORD", "another long secret")
        assert main([*run, "password", "anna"]) == 0
        assert users.verify("anna", "a long enough secret") is None
        assert users.verify("anna", "another long secret") is not None
        assert main([*run, "disable", "nobody"]) == 2
    finally:
        engine.dispose()
