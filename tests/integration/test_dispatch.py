"""The dispatcher with the real python-telegram-bot against the local Bot API server, and an
in-memory inbox store whose writes can be slowed to open the races a busy database opens."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.dispatch import Dispatcher
from bot.service import BotOptions, build_application
from bot.texts import load_texts
from core.ports import CardView
from sandbox.telegram import TOKEN, BotApiServer
from tests.unit.test_cards import view

STAFF = -1001000000077


class SlowInbox:
    """Only what drawing cards needs; ``card_sent`` takes ``delay`` seconds, like a slow commit."""

    def __init__(self, card: CardView, delay: float) -> None:
        self.view, self.delay = card, delay

    def card(self, complaint_id: int) -> CardView | None:
        return self.view

    def card_sent(self, complaint_id: int, version: int, chat_id: int | None, message_id: int | None) -> None:
        time.sleep(self.delay)
        self.view = replace(self.view, card_chat_id=chat_id, card_message_id=message_id)

    def cards_drawn(self, versions: dict[int, int]) -> None:
        return None


def options(tg: BotApiServer) -> BotOptions:
    return BotOptions(
        token=TOKEN,
        staff_chat_id=STAFF,
        staff_ids=frozenset({1}),
        alerts_chat_id=STAFF,
        zone=ZoneInfo("UTC"),
        base_url=tg.base_url,
        overall=(1000, timedelta(seconds=1)),
        per_group=(1000, timedelta(seconds=1)),
    )


async def test_a_press_during_the_first_send_edits_that_card_and_never_sends_a_second() -> None:
    """A staff press read the card before its first send was recorded; its redraw waits for the
    send and must then edit the card that was sent, not post a new one."""
    with BotApiServer() as tg:
        tg.add_group(STAFF, "staff")
        store = SlowInbox(view(), delay=0.3)
        app = build_application(options(tg))
        async with app:
            d = Dispatcher(app.bot, store, load_texts("en"), STAFF, STAFF, ZoneInfo("UTC"))  # type: ignore[arg-type]
            first = asyncio.create_task(d.card(7, 1))
            await asyncio.to_thread(tg.wait_for, lambda: tg.messages(STAFF), 5.0)
            # the press commits while the first send is being recorded; its view has no message id
            store.view = stale = replace(store.view, owner_name="Anna", owner_id=5)
            assert stale.card_message_id is None
            await asyncio.gather(first, d.card(7, 2, stale))
        cards = tg.messages(STAFF)
        assert len(cards) == 1
        assert "Anna" in cards[0]["text"]  # the second draw edited the card that was there
