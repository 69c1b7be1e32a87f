"""deploy/: the systemd unit passes `systemd-analyze verify` (where systemd is installed) with
its ExecStart pointed at this checkout's reclaim, and runs the command the README documents."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    reclaim = Path(sys.executable).with_name("reclaim")
    unit = (ROOT / "deploy" / "reclaim.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/reclaim/bin/reclaim --config /etc/reclaim/config.yaml -v run" in unit
    (tmp_path / "reclaim.service").write_text(unit.replace("/opt/reclaim/bin/reclaim", str(reclaim)), encoding="utf-8")
    done = subprocess.run([analyze, "verify", str(tmp_path / "reclaim.service")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "reclaim.service" not in done.stderr, done.stderr  # no warning about the unit itself


def test_compose_runs_the_image_with_postgresql() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    assert set(compose["services"]) == {"db", "reclaim"}
    assert compose["services"]["reclaim"]["build"]["dockerfile"] == "deploy/Dockerfile"
    docker = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    for package in ("bot", "core", "learning", "reclaim", "responders", "sandbox", "services", "storage", "watchers"):
        assert f"COPY {package} {package}" in docker  # every package pyproject.toml installs
