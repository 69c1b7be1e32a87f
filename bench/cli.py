"""How long `reclaim` takes to start, whole process, as a person runs it.

    .venv/bin/python bench/cli.py [RUNS]

Each command is run RUNS times (default 7) as a new process; the median wall time is printed
beside the baseline measured in the same run: the bare interpreter (`python -c pass`) and what
the CLI cost before its commands were imported on demand (the modules the old `reclaim --help`
imported in full before printing anything: the app, the scheduler and every command).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OLD_IMPORTS = "reclaim.app, reclaim.scheduler, reclaim.poller, reclaim.cli_web, reclaim.cli_review, services.accounts"
CONFIG = """
brand: {name: Nordlys}
database: {url: "sqlite:///%s"}
web: {enabled: false}
sources:
  - {name: blog, kind: rss, url: "https://example.org/feed.xml"}
  - {name: reviews, kind: html, url: "https://example.org/reviews", extract: jsonld}
"""


def timed(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    reclaim = [sys.executable, "-m", "reclaim"]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(CONFIG % (Path(tmp) / "journal.db"), encoding="utf-8")
        bare = timed([sys.executable, "-c", "pass"], runs)
        old = timed([sys.executable, "-c", f"import {OLD_IMPORTS}"], runs)
        rows = [
            ("reclaim --help", timed([*reclaim, "--help"], runs)),
            ("reclaim check-config", timed([*reclaim, "--config", str(config), "check-config"], runs)),
        ]
    print(f"median of {runs} runs, whole process (target: under 0.5 s)")
    print(f"  baseline: bare interpreter {bare:.3f} s; the old start-up (its imports alone) {old:.3f} s")
    for name, seconds in rows:
        print(
            f"  {name:<22} {seconds:.3f} s  ({seconds / old:.2f}x the old start-up, +{seconds - bare:.3f} s over bare)"
        )


if __name__ == "__main__":
    main()
