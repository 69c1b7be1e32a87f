"""`logging.format: json`: every log line is one JSON object, a traceback one string in it, and
a secret from the environment never in it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT


def test_json_log_lines_hide_secrets(tmp_path: Path) -> None:
    site = "http://127.0.0.1:9/feed.xml"  # nothing listens there: a failing source logs a warning
    config = tmp_path / "config.yaml"
    data = {
        "brand": {"name": "Nordlys"},
        "database": {"url": f"sqlite:///{tmp_path / 'journal.db'}"},
        "logging": {"format": "json"},
        "polling": {"retries": 0},
        "sources": [{"name": "forum", "kind": "rss", "url": site + "?k=s3cr3t-value-123"}],
    }
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REDDIT_CLIENT_SECRET": "s3cr3t-value-123"}
    done = subprocess.run(
        [sys.executable, "-m", "reclaim", "--config", str(config), "-v", "poll", "--once"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert lines, done.stderr
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    failed = [x for x in lines if x["logger"] == "reclaim.poll" and x["level"] == "WARNING"]
    assert failed and "forum" in failed[0]["message"]
    assert "s3cr3t-value-123" not in done.stderr


def test_a_traceback_is_one_field() -> None:
    from reclaim.redact import JsonFormatter

    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed here" and "ValueError: boom" in line["traceback"]
