"""Source kinds are plugins: a kind added by one module (tests/plugins/jsonlines.py) and one
registry line is validated by the config, polled by `reclaim poll --once` through worker
processes, triaged and drafted like the built-in kinds, and described by `reclaim sources`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reclaim.cli import main
from reclaim.config import settings_from_text
from reclaim.yamlsource import ConfigError
from sandbox.sites import Page, SiteServer
from storage.tables import Complaint, Draft, Mention
from tests.plugins.jsonlines import JsonLinesKind
from watchers import REGISTRY, Intake

LINES = [
    {"id": "a1", "body": "Nordlys lost my parcel and nobody answers. I want a refund.", "author": "Kim"},
    {"id": "a2", "body": "Nordlys jackets are lovely, thank you!", "author": "Lee"},
]


@pytest.fixture
def jsonlines() -> Iterator[None]:
    REGISTRY.register(JsonLinesKind)  # the one registry line a new kind needs
    yield
    REGISTRY.unregister("jsonlines")


def config(db: str, url: str, extra: str = "") -> str:
    return f"""
brand: {{name: Nordlys}}
database: {{url: "{db}"}}
polling: {{workers: 1, retries: 0}}
web: {{enabled: false}}
sources:
  - name: shop-api
    kind: jsonlines
    url: {url}
    text_field: body{extra}
"""


@pytest.mark.usefixtures("jsonlines")
def test_a_registered_kind_is_polled_like_the_built_in_ones(
    tmp_path: Path, site: SiteServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = site.add("/mentions.jsonl", Page("\n".join(json.dumps(x) for x in LINES).encode()))
    db = f"sqlite:///{tmp_path / 'journal.db'}"
    path = tmp_path / "config.yaml"
    path.write_text(config(db, url), encoding="utf-8")
    assert REGISTRY["jsonlines"].intake is Intake.FETCH

    assert main(["--config", str(path), "poll", "--once"]) == 0  # parsed in a worker process
    assert main(["--config", str(path), "poll", "--once"]) == 0  # the same items again: nothing new
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(db)
    with Session(engine) as s:
        mentions = {m.external_id: (m.kind, m.author) for m in s.scalars(select(Mention))}
        complaints = s.scalars(select(Complaint)).all()
        drafts = s.scalars(select(Draft)).all()
    engine.dispose()
    assert mentions == {"a1": ("complaint", "Kim"), "a2": ("praise", "Lee")}
    assert len(complaints) == 1 and complaints[0].source == "shop-api"
    assert len(drafts) == 1 and "Nordlys" in drafts[0].text

    capsys.readouterr()
    assert main(["--config", str(path), "check-config"]) == 0
    out = capsys.readouterr().out
    assert "jsonlines" in out and "mentions.jsonl" in out


@pytest.mark.usefixtures("jsonlines")
def test_the_kind_validates_its_own_options(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_text(config("sqlite:///x.db", "http://127.0.0.1:1/x", "\n    text_feild: x"), env={})
    assert "line 11: sources[0].text_feild: unknown key" in str(err.value)


def test_an_unregistered_kind_is_a_config_error_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_text(config("sqlite:///x.db", "http://127.0.0.1:1/x"), env={})
    text = str(err.value)
    assert "unknown source kind 'jsonlines'" in text
    assert all(name in text for name in ("rss", "html", "reddit", "telegram_group"))


def test_a_kind_without_a_literal_kind_field_is_refused() -> None:
    from watchers import HttpOptions
    from watchers.kinds import FetchKind

    class Loose(FetchKind[Any]):
        name = "loose"
        options = HttpOptions

    with pytest.raises(TypeError, match="Literal"):
        REGISTRY.register(Loose)
    assert "loose" not in REGISTRY
