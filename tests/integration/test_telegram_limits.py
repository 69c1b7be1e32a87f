"""Telegram's flood limits with the real python-telegram-bot against the local Bot API server:
the bot paces itself to the configured limits, and when Telegram still answers 429 it waits the
``retry_after`` it was told and delivers every message exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.service import BotOptions, build_application
from sandbox.telegram import TOKEN, BotApiServer, Limits

GROUP = -1001000000001


def options(tg: BotApiServer, per_group: tuple[int, timedelta]) -> BotOptions:
    return BotOptions(
        token=TOKEN,
        staff_chat_id=GROUP,
        staff_ids=frozenset({1}),
        alerts_chat_id=GROUP,
        zone=ZoneInfo("UTC"),
        base_url=tg.base_url,
        per_group=per_group,
        max_retries=5,
    )


async def send_all(tg: BotApiServer, per_group: tuple[int, timedelta], n: int) -> list[str]:
    app = build_application(options(tg, per_group))
    async with app:
        await asyncio.gather(*(app.bot.send_message(GROUP, f"message {i}") for i in range(n)))
    return sorted(m["text"] for m in tg.messages(GROUP))


async def test_paced_to_the_configured_limits_the_bot_is_never_refused() -> None:
    with BotApiServer(limits=Limits(overall=None, per_group=(3, 1.0))) as tg:
        tg.add_group(GROUP, "staff")
        texts = await send_all(tg, (3, timedelta(seconds=1)), 6)
        assert texts == sorted(f"message {i}" for i in range(6))
        assert tg.state.rejected_floods == 0


async def test_a_429_is_honoured_and_nothing_is_lost_or_sent_twice() -> None:
    with BotApiServer(limits=Limits(overall=None, per_group=(2, 1.0))) as tg:
        tg.add_group(GROUP, "staff")
        # the bot believes it may send 100 a second; the server refuses past 2
        texts = await send_all(tg, (100, timedelta(seconds=1)), 5)
        assert texts == sorted(f"message {i}" for i in range(5))
        # refused, then waited as told: retrying at once would run out of retries and lose messages
        assert tg.state.rejected_floods >= 1
