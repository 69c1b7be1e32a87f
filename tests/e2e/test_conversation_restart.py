"""The private conversation survives restarts: `reclaim run` is SIGKILLed and started again
between every two steps (the Bot API server, like Telegram, redelivers what was not confirmed),
and the conversation ends in the same state with no message lost or sent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from core.ingest import ComplaintPlan, IngestPlan, MentionPlan, new_token
from core.lifecycle import Status
from core.model import Kind, RawMention, Severity, Triage
from reclaim.app import App
from reclaim.settings import Settings
from sandbox.telegram import TOKEN, BotApiServer
from storage.journal import record_plan
from storage.tables import Complaint, Event, Outbox, StaffPrompt
from tests.conftest import ROOT

STAFF = -1001000000001
ANNA, CAROL = 111, 555


def start(config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "reclaim", "--config", str(config), "run"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def buttons(m: dict[str, Any]) -> list[str]:
    return [b["callback_data"] for row in m.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


@pytest.mark.parametrize("lang", ["en", "ru", "da"])
def test_killed_between_every_two_steps_it_ends_the_same(tmp_path: Path, db_url: str, lang: str) -> None:
    settings = {
        "brand": {"name": "Nordlys"},
        "database": {"url": db_url},
        "web": {"enabled": False},
        "timezone": "Europe/Copenhagen",
        "alerts": {"check_every": "1s"},
    }
    app = App(Settings.model_validate(settings))
    now = datetime.now(UTC)
    plan = IngestPlan(source="reviews", fetched_at=now)
    raw = RawMention(external_id="1", text="My Nordlys order never arrived", author="Carol")
    token = new_token()
    complaint = ComplaintPlan(token, Status.DRAFT_READY, now + timedelta(hours=1), "Sorry, Carol")
    plan.mentions.append(MentionPlan(raw, Triage(lang, Kind.COMPLAINT, (), Severity.NORMAL, "delivery"), complaint))
    with app.sessions.begin() as session:
        record_plan(session, plan)
        session.execute(select(Complaint)).scalar_one().status = Status.PUBLISHED.value
    texts = app.conversation_texts(lang)

    with BotApiServer() as tg:
        tg.add_group(STAFF, "care team")
        tg.add_user(ANNA, "Anna")
        tg.add_user(CAROL, "Carol", language_code=lang)
        tele = {
            "bot_username": "nordlys_care_bot",
            "token": "${TELEGRAM_BOT_TOKEN}",
            "base_url": tg.base_url,
            "staff_chat_id": STAFF,
            "staff_user_ids": [ANNA],
            "poll_timeout": "1s",
            "limits": {"overall": {"count": 1000, "per": "1s"}, "per_group": {"count": 1000, "per": "1s"}},
        }
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump({**settings, "telegram": tele}))

        def carol() -> list[dict[str, Any]]:
            return tg.messages(CAROL)

        def card() -> dict[str, Any] | None:
            return next((m for m in tg.messages(STAFF) if "c:1:" in "".join(buttons(m))), None)

        def prompt(marker: str) -> dict[str, Any] | None:
            return next((m for m in reversed(tg.messages(STAFF)) if marker in m["text"]), None)

        def settled() -> bool:
            """Nothing queued or being sent, and every question the bot asked staff is recorded."""
            asked = sum(1 for m in tg.messages(STAFF) if "💡" in m["text"] or "✔️" in m["text"])
            with app.sessions() as s:
                busy = s.scalars(select(Outbox.id).where(Outbox.status.in_(("pending", "sending")))).first()
                prompts = len(list(s.scalars(select(StaffPrompt.id).where(StaffPrompt.purpose != "relay"))))
            return busy is None and prompts == asked

        def has(n: int) -> Callable[[], bool]:
            return lambda: len(carol()) >= n

        def press_last(value: str) -> None:
            message = next(m for m in reversed(carol()) if f"p:1:{value}" in buttons(m))
            tg.press(CAROL, message["message_id"], CAROL, data=f"p:1:{value}")

        def staff(action: str) -> None:
            found = card()
            assert found is not None
            tg.press(STAFF, found["message_id"], ANNA, data=f"c:1:{action}", check=False)

        steps: list[tuple[Callable[[], Any], Callable[[], Any]]] = [
            (lambda: tg.send_text(CAROL, CAROL, f"/start {token}"), has(2)),  # welcome + first question
            (lambda: tg.send_text(CAROL, CAROL, "Order 48213"), has(3)),
            (lambda: tg.send_text(CAROL, CAROL, "Last Monday"), has(4)),
            (lambda: tg.send_text(CAROL, CAROL, "The parcel never came"), has(5)),  # the summary
            (lambda: press_last("summary:yes"), has(6)),
            (lambda: staff("of"), lambda: prompt("💡")),
            (lambda: tg.send_text(STAFF, ANNA, "New coat\nRefund", reply_to=prompt("💡")["message_id"]), has(7)),  # type: ignore[index]
            (lambda: press_last("choosing:1"), has(9)),  # chosen + the promised time
            (lambda: staff("rs"), lambda: prompt("✔️")),
            (lambda: tg.send_text(STAFF, ANNA, "Refund sent", reply_to=prompt("✔️")["message_id"]), has(11)),  # type: ignore[index]
            (lambda: press_last("satisfaction:5"), has(12)),
        ]
        proc = start(config)
        try:
            tg.wait_for(card, timeout=30)
            for n, (action, done) in enumerate(steps):
                action()
                try:
                    tg.wait_for(done, timeout=30)
                except TimeoutError:
                    raise AssertionError(f"step {n}: {[m['text'][:40] for m in carol()]}") from None
                tg.wait_for(settled, timeout=30)  # between two steps, not in the middle of a send
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
                proc = start(config)
            tg.wait_for(lambda: tg.state.calls.get("getUpdates", 0) > 0, timeout=30)
            time.sleep(3)  # a last process had every chance to repeat something
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)

        sent = [m["text"] for m in carol()]
        assert len(sent) == 12, sent
        assert len(set(sent)) == len(sent)  # nothing twice
        assert sent[0] == texts.t("contact.named", name="Carol")
        assert sent[-1] == texts.t("satisfaction.thanks")
    with app.sessions() as s:
        assert s.scalars(select(Complaint.status)).one() == "closed"
        kinds = list(s.scalars(select(Event.kind).order_by(Event.id)))
    for once in ("conversation_started", "summary_confirmed", "options_proposed", "option_chosen", "resolved", "rated"):
        assert kinds.count(once) == 1, (once, kinds)
    app.close()
