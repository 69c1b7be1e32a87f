"""Review pages whose items nest inside each other, against the same items side by side.

    .venv/bin/python bench/parse.py [DEPTH ...]

Each page is parsed by the html watcher with the stock selectors (config.yaml's), in CPU
seconds. The baseline, in the same run, is a flat page with the same number of items: a
linear parser keeps the ratio near 1 whatever the depth; the quadratic one it replaced took
1.9 s / 6.3 s / 25 s at 250 / 500 / 1000 levels (ratios growing with depth).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.hostile import nested_page
from watchers.base import Fetched
from watchers.html import HtmlWatcher

STOCK = {"item": "div.review", "id": "::attr(data-review-id)", "title": "h3.review-title",
         "text": "div.review-body", "author": "span.user", "link": "h3.review-title a::attr(href)",
         "published": "time::attr(datetime)"}  # fmt: skip


def flat_page(count: int) -> bytes:
    items = "".join(
        f'<div class="review" data-review-id="r{i}"><h3 class="review-title"><a href="/r/{i}">Nordlys review {i}'
        f'</a></h3><span class="user">user{i}</span><div class="review-body">Nordlys order {i} never arrived.'
        "</div></div>"
        for i in range(count)
    )
    return f"<!doctype html><html><body>{items}</body></html>".encode()


def cpu(body: bytes, repeat: int = 3) -> tuple[float, int]:
    watcher, best, items = HtmlWatcher(selectors=STOCK), float("inf"), 0
    for _ in range(repeat):
        started = time.process_time()
        items = len(watcher.parse(Fetched("https://reviews.example/", 200, body, "text/html")).items)
        best = min(best, time.process_time() - started)
    return best, items


def main() -> None:
    depths = [int(a) for a in sys.argv[1:]] or [250, 500, 1000, 2000]
    print(f"{'depth':>6} {'bytes':>8} {'nested s':>9} {'flat s':>8} {'ratio':>6}")
    for depth in depths:
        body = nested_page(depth)
        nested, n_items = cpu(body)
        flat, f_items = cpu(flat_page(depth))
        assert n_items == f_items == depth, (n_items, f_items)
        print(f"{depth:>6} {len(body):>8} {nested:>9.3f} {flat:>8.3f} {nested / flat:>5.2f}×")


if __name__ == "__main__":
    main()
