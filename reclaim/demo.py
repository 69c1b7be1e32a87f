"""`reclaim demo`: the whole foundation on bundled sample sources served on localhost."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from reclaim.app import App
from reclaim.cli import poll_once, print_outcomes
from reclaim.settings import load_settings
from sandbox.sites import SiteServer
from storage import queries

SANDBOX = Path(__file__).resolve().parent.parent / "sandbox"


def run_demo(folder: str, console: Console) -> int:
    work = Path(folder)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    with SiteServer() as site:
        site.add_dir(SANDBOX / "samples")
        env = {**os.environ, "SAMPLES": site.base, "DEMO_DB": str(work / "reclaim.db")}
        settings = load_settings(SANDBOX / "demo.yaml", env)
        app = App(settings)
        try:
            console.rule("First poll: four sample sources served on " + site.base)
            print_outcomes(asyncio.run(poll_once(app, None, console)), console)
            console.rule("Second poll: nothing changed, so every source answers 304")
            print_outcomes(asyncio.run(poll_once(app, None, console)), console)
            with app.sessions() as session:
                mentions = queries.list_mentions(session)
                complaints = queries.list_complaints(session, link_base=app.link_base)
                kinds: dict[str, int] = {}
                for m in mentions:
                    kinds[m["kind"]] = kinds.get(m["kind"], 0) + 1
                console.rule(f"Journal: {len(mentions)} mentions " + str(kinds))
                for c in reversed(complaints):
                    detail = queries.complaint_detail(session, c["id"], link_base=app.link_base) or {}
                    m = detail.get("mention") or {}
                    title = (
                        f"complaint {c['id']} · {m.get('source')} · {c['language']} · {c['severity']} · "
                        f"{c['category']}" + (f" · {', '.join(c['flags'])}" if c["flags"] else "")
                    )
                    body = f"[dim]{m.get('text', '')[:160]}[/dim]\n\n" + (c["draft"] or {}).get("text", "")
                    console.print(Panel(body, title=title, title_align="left"))
        finally:
            app.close()
    console.print(
        f"Journal kept in {work / 'reclaim.db'}. Next: write your own config.yaml "
        "(see the README) and run `reclaim check-config`, then `reclaim poll --once`."
    )
    return 0
