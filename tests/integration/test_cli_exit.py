"""`reclaim` as a person runs it (the console script, `python -m reclaim`) leaves without
tearing down every module and object first: everything a normal exit owes still happens
(the exit code, output flushed into a pipe, atexit handlers, other threads finished), only
the interpreter's clean-up of its heap is skipped (bench/cli.py measures what that saves)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import atexit, sys, threading, time
    marks = sys.argv[1]
    atexit.register(lambda: open(marks, "a").write("atexit\\n"))
    class Heap:
        def __del__(self):
            open(marks, "a").write("heap torn down\\n")
    KEEP = Heap()
    def late():
        time.sleep(0.3)
        open(marks, "a").write("thread finished\\n")
    threading.Thread(target=late).start()
    sys.argv = ["reclaim", *sys.argv[2:]]
    from reclaim.cli import entry
    entry()
    """
)


def _run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    marks = tmp_path / "marks.txt"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(marks), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return proc, marks.read_text().splitlines() if marks.exists() else []


def test_a_command_exits_with_its_code_and_everything_flushed(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f'brand: {{name: Nordlys}}\ndatabase: {{url: "sqlite:///{tmp_path}/j.db"}}\n')
    proc, marks = _run(tmp_path, "--config", str(config), "check-config")
    assert proc.returncode == 0, proc.stderr
    assert "Nordlys" in proc.stdout  # the summary reached the pipe, not lost in a buffer
    assert marks == ["thread finished", "atexit"]  # the heap's finaliser is the only thing skipped


def test_a_failing_command_keeps_its_exit_code_and_message(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("brand: {name: Nordlys}\npolling: {concurrency: lots}\n")
    proc, marks = _run(tmp_path, "--config", str(config), "check-config")
    assert proc.returncode == 2
    assert "concurrency" in proc.stderr
    assert marks == ["thread finished", "atexit"]


def test_the_console_script_and_python_m_use_the_quick_exit() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'reclaim = "reclaim.cli:entry"' in pyproject
    assert "entry()" in (ROOT / "reclaim" / "__main__.py").read_text()


def test_checking_a_config_loads_no_parser_server_or_database_library(tmp_path: Path) -> None:
    """`check-config` (and `--help`) stay quick because they never import what only polling,
    serving or the journal need; bench/cli.py measures the time, this keeps the imports honest."""
    config = tmp_path / "config.yaml"
    config.write_text(
        'brand: {name: Nordlys}\ndatabase: {url: "sqlite:///j.db"}\nweb: {enabled: false}\n'
        "sources:\n  - {name: reviews, kind: html, url: 'https://example.org/r', extract: jsonld}\n"
    )
    probe = (
        "import sys; from reclaim.cli import main; code = main(sys.argv[1:]); "
        "heavy = ('asyncio', 'bs4', 'alembic', 'sqlalchemy.orm', 'telegram', 'uvicorn'); "
        "print(sorted(m for m in heavy if m in sys.modules)); sys.exit(code)"
    )
    for args in (["--config", str(config), "check-config"], ["--help"]):
        proc = subprocess.run(
            [sys.executable, "-c", probe, *args], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip().splitlines()[-1] == "[]", (args, proc.stdout[-300:])


def test_output_that_cannot_be_written_fails_the_command(tmp_path: Path) -> None:
    """A full disk under `reclaim outbox list --json > file` must not look like success."""
    config = tmp_path / "config.yaml"
    config.write_text(f'brand: {{name: Nordlys}}\ndatabase: {{url: "sqlite:///{tmp_path}/j.db"}}\n')
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "reclaim", "--config", str(config), "outbox", "list", "--json"],
            cwd=ROOT, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    assert proc.returncode != 0
    assert "No space left on device" in proc.stderr
    # output still in the buffer when the command ends fails at the last flush, as Python's own exit does
    leftover = "import sys; sys.stdout.write('x' * 100); from reclaim.cli import exit_now; exit_now(0)"
    with open("/dev/full", "w") as full:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a buffer, as in production
        proc = subprocess.run([sys.executable, "-c", leftover], cwd=ROOT, stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=60, env=env)  # fmt: skip
    assert proc.returncode == 120
    assert "No space left on device" in proc.stderr


def test_every_command_closes_the_journal_before_it_exits(tmp_path: Path, monkeypatch: Any) -> None:
    from reclaim.app import App
    from reclaim.cli import main

    closed: list[bool] = []
    monkeypatch.setattr(App, "close", lambda self: closed.append(True))
    config = tmp_path / "config.yaml"
    config.write_text(f'brand: {{name: Nordlys}}\ndatabase: {{url: "sqlite:///{tmp_path}/j.db"}}\n')
    assert main(["--config", str(config), "sources"]) == 0
    assert closed == [True]


def test_a_reader_that_stops_early_costs_neither_the_exit_code_nor_a_traceback(tmp_path: Path) -> None:
    """`reclaim … | head -1`: the command still ends as its work did, quietly."""
    config = tmp_path / "config.yaml"
    config.write_text(
        f'brand: {{name: Nordlys}}\ndatabase: {{url: "sqlite:///{tmp_path}/j.db"}}\nweb: {{enabled: false}}\n'
        "sources:\n"
        + "".join(f"  - {{name: s{i}, kind: rss, url: 'http://127.0.0.1:9/f{i}.xml'}}\n" for i in range(40))
    )
    for command in ("poll --once", "sources"):
        script = (
            f"{sys.executable} -m reclaim --config {config} {command} | head -c 1 > /dev/null; echo ${{PIPESTATUS[0]}}"
        )
        proc = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.stdout.strip() == ("3" if command == "poll --once" else "0"), (command, proc.stderr[-500:])
        assert "Traceback" not in proc.stderr and "unexpected error" not in proc.stderr
