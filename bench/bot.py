"""Staff-inbox throughput and latency through the local Bot API server.

`reclaim run` (the real python-telegram-bot, journal on SQLite) runs in its own process; this
process serves the Bot API and presses card buttons as staff (Take, alternating owners, so every
press changes its card) and as outsiders (refused). It prints updates handled per second, the
latency from a press to its edited card (p50/p95), the highest send rate the server saw against
the configured limits, and the same figures for a baseline: a bare python-telegram-bot
application that only answers and edits, with no journal, in the same run.

    .venv/bin/python bench/bot.py [--complaints 200] [--presses 2000]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.ingest import ComplaintPlan, IngestPlan, MentionPlan, new_token  # noqa: E402
from core.lifecycle import Status  # noqa: E402
from core.model import Kind, RawMention, Severity, Triage  # noqa: E402
from reclaim.app import App  # noqa: E402
from reclaim.settings import Settings  # noqa: E402
from sandbox.telegram import TOKEN, BotApiServer, Limits  # noqa: E402
from storage.journal import record_plan  # noqa: E402

STAFF = -1001000000001
ANNA, BOB, EVE = 111, 222, 999

BARE_BOT = """
import sys
from telegram.ext import Application, CallbackQueryHandler
async def on(update, context):
    q = update.callback_query
    await q.answer("ok")
    await q.edit_message_text(q.message.text_html + "\\n" + str(update.update_id), parse_mode="HTML",
                              reply_markup=q.message.reply_markup)
app = (Application.builder().token(sys.argv[1]).base_url(sys.argv[2]).concurrent_updates(16).build())
app.add_handler(CallbackQueryHandler(on))
app.run_polling(timeout=1)
"""


def seed(db: str, n: int) -> None:
    app = App(Settings.model_validate({"brand": {"name": "Nordlys"}, "database": {"url": db}}))
    now = datetime.now(UTC)
    plan = IngestPlan(source="bench", fetched_at=now)
    for i in range(n):
        raw = RawMention(external_id=str(i), text=f"Nordlys order {i} never arrived. " * 5, author=f"Customer {i}")
        triage = Triage("en", Kind.COMPLAINT, (), Severity.NORMAL, "delivery")
        draft = "Hi, thank you for telling us. We're truly sorry. " * 6
        plan.mentions.append(
            MentionPlan(raw, triage, ComplaintPlan(new_token(), Status.DRAFT_READY, now + timedelta(hours=1), draft))
        )
    with app.sessions.begin() as session:
        record_plan(session, plan)
    app.close()


def cards(tg: BotApiServer) -> dict[int, int]:
    out = {}
    for m in tg.messages(STAFF):
        rows = m.get("reply_markup", {}).get("inline_keyboard", [])
        if rows and str(rows[0][0].get("callback_data", "")).startswith("c:"):
            out[int(rows[0][0]["callback_data"].split(":")[1])] = m["message_id"]
    return out


def drive(
    tg: BotApiServer,
    targets: dict[int, int],
    owners: dict[int, int],
    presses: int,
    data_for: Any,
    rate: float | None = None,
) -> dict[str, float]:
    """Press ``presses`` buttons, as fast as the bot takes them or at ``rate`` per second;
    measure answers and edits."""
    rng = random.Random(1)
    ids = list(targets)
    sent: list[tuple[str, int, float, bool]] = []  # (query id, message id, time, expects an edit)
    start = time.monotonic()
    for i in range(presses):
        cid = ids[i % len(ids)]
        outsider = rng.random() < 0.2
        # a staff press always hands the card to the other member, so it always changes the card
        user = EVE if outsider else (BOB if owners.get(cid) == ANNA else ANNA)
        if not outsider:
            owners[cid] = user
        qid = tg.press(STAFF, targets[cid], user, data=data_for(cid), check=False)
        sent.append((qid, targets[cid], time.monotonic(), not outsider))
        if rate:
            time.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
        elif i % 50 == 49:  # keep a realistic backlog, not one giant batch
            tg.wait_for(lambda q=sent[-25][0]: tg.answer(q), timeout=60)
    tg.wait_for(lambda: all(tg.answer(q) for q, *_ in sent[-20:]), timeout=120)
    tg.wait_for(lambda: all(tg.answer(q) for q, *_ in sent), timeout=120)
    end = max(tg.answered_at(q) for q, *_ in sent)
    latencies = []
    for _qid, mid, t0, expects in sent:
        if expects:
            edit = tg.first_edit_after(STAFF, mid, t0, timeout=5)
            if edit is not None:
                latencies.append((edit - t0) * 1000)
    latencies.sort()
    return {
        "updates_per_s": presses / (end - start),
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] if latencies else float("nan"),
        "edits": len(latencies),
    }


def peak_rates(tg: BotApiServer, per_group: float) -> tuple[int, int]:
    """The most sends the server accepted within any 1 s, and within any ``per_group`` window
    (one staff chat, so every send counts against both)."""
    times = sorted(t for t, _chat, _m in tg.state.sends)

    def peak(window: float) -> int:
        best, j = 0, 0
        for i, t in enumerate(times):
            while times[j] <= t - window:
                j += 1
            best = max(best, i - j + 1)
        return best

    return peak(1.0), peak(per_group)


def run(args: argparse.Namespace, *, baseline: bool) -> dict[str, float]:
    overall, group = (args.overall, 1.0), (args.per_group, args.group_window)
    with tempfile.TemporaryDirectory() as tmp, BotApiServer(limits=Limits(overall, group)) as tg:
        tg.add_group(STAFF, "care team")
        for uid, name in ((ANNA, "Anna"), (BOB, "Bob"), (EVE, "Eve")):
            tg.add_user(uid, name)
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
        if baseline:
            for n in range(args.complaints):
                keys = {"inline_keyboard": [[{"text": "Take", "callback_data": f"c:{n + 1}:tc"}]]}
                text = f"<b>Complaint #{n + 1}</b> " + "x" * 600
                tg.call("sendMessage", {"chat_id": STAFF, "text": text, "parse_mode": "HTML", "reply_markup": keys})
            cmd = [sys.executable, "-c", BARE_BOT, TOKEN, tg.base_url]
        else:
            db = f"sqlite:///{tmp}/bench.db"
            seed(db, args.complaints)
            config = Path(tmp) / "config.yaml"
            tele = {"bot_username": "nordlys_care_bot", "token": "${TELEGRAM_BOT_TOKEN}", "base_url": tg.base_url,
                    "staff_chat_id": STAFF, "staff_user_ids": [ANNA, BOB], "poll_timeout": "1s",
                    "limits": {"overall": {"count": overall[0], "per": "1s"},
                               "per_group": {"count": group[0], "per": f"{int(group[1])}s"}}}  # fmt: skip
            config.write_text(yaml.safe_dump({"brand": {"name": "Nordlys"}, "database": {"url": db}, "telegram": tele}))
            cmd = [sys.executable, "-m", "reclaim", "--config", str(config), "run"]
        if os.environ.get("BENCH_SPY") and not baseline:  # profile the bot: BENCH_SPY=out.txt, py-spy installed
            spy = str(Path(sys.executable).parent / "py-spy")
            cmd = [spy, "record", "-o", os.environ["BENCH_SPY"], "-f", "raw", "-t", "--", *cmd]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            tg.wait_for(lambda: len(cards(tg)) >= args.complaints, timeout=300)
            owners: dict[int, int] = {}
            result = drive(tg, cards(tg), owners, args.presses, lambda cid: f"c:{cid}:tc")
            paced = drive(tg, cards(tg), owners, args.paced, lambda cid: f"c:{cid}:tc", rate=args.rate)
            result["p50_ms"], result["p95_ms"], result["edits"] = paced["p50_ms"], paced["p95_ms"], paced["edits"]
            result["peak_1s"], result["peak_group"] = peak_rates(tg, group[1])
            result["floods"] = tg.state.rejected_floods
        finally:
            if os.environ.get("BENCH_SPY"):
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=60)
            proc.terminate()
            proc.wait(timeout=30)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--complaints", type=int, default=200)
    p.add_argument("--presses", type=int, default=2000)
    p.add_argument("--rate", type=float, default=50, help="presses per second while latency is measured")
    p.add_argument("--paced", type=int, default=500, help="presses while latency is measured")
    p.add_argument("--overall", type=int, default=1000, help="sends per second the bot and server allow")
    p.add_argument("--per-group", type=int, default=1000, help="sends per group window")
    p.add_argument("--group-window", type=float, default=1.0, help="seconds (Telegram: 20 per 60 s)")
    args = p.parse_args()
    print(f"limits: {args.overall}/s overall, {args.per_group} per {args.group_window:g}s per group; "
          f"{args.complaints} cards; throughput: a burst of {args.presses} presses (20% by outsiders); "
          f"latency: {args.paced} presses at {args.rate:g}/s")  # fmt: skip
    base = run(args, baseline=True)
    ours = run(args, baseline=False)
    for name, r in (("bare PTB (baseline)", base), ("reclaim", ours)):
        print(
            f"{name:20s} {r['updates_per_s']:7.0f} updates/s  press→edited card p50 {r['p50_ms']:6.1f} ms  "
            f"p95 {r['p95_ms']:6.1f} ms  ({r['edits']:.0f} edits; peak {r['peak_1s']:.0f} sends/1s, "
            f"{r['peak_group']:.0f} per group window; {r['floods']:.0f} refused as floods)"
        )
    print(f"ratio reclaim/baseline: throughput {ours['updates_per_s'] / base['updates_per_s']:.2f}×, "
          f"p95 latency {ours['p95_ms'] / base['p95_ms']:.2f}×")  # fmt: skip
    ratio = ours["updates_per_s"] / base["updates_per_s"]
    print(f"targets (issue 14): ≥0.8× the baseline → {'met' if ratio >= 0.8 else 'MISSED'}; "
          f"≥200 updates/s → {'met' if ours['updates_per_s'] >= 200 else 'MISSED'}; "
          f"p95 < 50 ms → {'met' if ours['p95_ms'] < 50 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
