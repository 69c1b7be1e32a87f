"""Watching Telegram groups: a message in a configured group (or a channel's discussion group)
is handed to the journal like any source's item; a complaint among them gets its card at once.
The bot must be a member with privacy mode off (BotFather → /setprivacy → Disable)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from core.model import RawMention
from core.ports import InThread

log = logging.getLogger("reclaim.bot")
# (source name, mentions) → ids of the complaints opened
Ingest = Callable[[str, Sequence[RawMention]], Sequence[int]]


@dataclass
class GroupWatch:
    # chat id → (source name, its kind's reader of a Bot API message as a mention)
    sources: dict[int, tuple[str, Callable[[Mapping[str, Any]], RawMention | None]]]
    ingest: Ingest
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    db: InThread = asyncio.to_thread

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        if not self.sources:
            return
        chats = filters.Chat(list(self.sources)) & filters.ChatType.GROUPS
        app.add_handler(MessageHandler(chats & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND, self.on_message))

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message in a watched group: a mention if it is a customer's and names the brand."""
        message = update.message
        if message is None or message.chat.id not in self.sources:
            return
        name, to_mention = self.sources[message.chat.id]
        mention = to_mention(message.to_dict())
        if mention is None:
            return
        opened: Sequence[int] = ()
        for attempt, pause in enumerate((0.2, 1.0, 3.0, None)):
            try:
                opened = await self.db(self.ingest, name, [mention])
                break
            except Exception:  # a busy journal: the message exists nowhere else, so try again
                if pause is None:
                    log.exception("group %s: message %s could not be recorded", name, mention.external_id)
                    return
                log.warning("group %s: recording message %s failed (try %d); again", name, mention.external_id,
                            attempt + 1, exc_info=True)  # fmt: skip
                await asyncio.sleep(pause)
        if opened:
            log.info("group %s: complaint(s) %s opened", name, ", ".join(map(str, opened)))
            self.wake.set()
