"""The mentions lane in the staff chat: a compact card for each mention the team should see
(a question, praise, one triage is unsure about) with It's a complaint, Answer (questions),
Thank (praise) and Ignore. Only configured staff may press; the journal decides (services/
mentions.py), the card then says what was done and by whom, and loses its buttons."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.cards import lane_keyboard, lane_text
from bot.dispatch import NO_PREVIEW, markup
from bot.texts import StaffTexts
from core.inbox import Staff
from core.ports import InThread, LaneApplied, MentionStore

log = logging.getLogger("reclaim.bot")


def parse_lane(data: str) -> tuple[int, str] | None:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != "m" or not parts[1].isdigit() or len(parts[1]) > 18:
        return None
    return int(parts[1]), parts[2]


@dataclass
class MentionLane:
    store: MentionStore
    texts: StaffTexts
    staff_ids: frozenset[int]
    wake: asyncio.Event
    db: InThread = asyncio.to_thread

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        app.add_handler(CallbackQueryHandler(self.on_button, pattern=r"^m:"))

    def notice(self, applied: LaneApplied) -> str:
        key = f"notice_{applied.notice}"
        return self.texts.t("lane", key) if self.texts.has("lane", key) else ""

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.data is None:
            return
        if query.from_user.id not in self.staff_ids:
            log.warning("refused a mentions-lane press by non-staff user %s", query.from_user.id)
            await _quietly(query.answer(self.texts.t("notice", "refused"), show_alert=True))
            return
        parsed = parse_lane(query.data)
        if parsed is None:
            await _quietly(query.answer())
            return
        who = Staff(query.from_user.id, query.from_user.full_name)
        applied = await self.db(self.store.act, parsed[0], parsed[1], who, update.update_id)
        await _quietly(query.answer(self.notice(applied)))
        if applied.changed and applied.case_id is not None:
            self.wake.set()  # the new case's card
        message = query.message
        if applied.view is not None and message is not None:
            v = applied.view
            await _quietly(context.bot.edit_message_text(
                lane_text(v, self.texts), message.chat.id, message.message_id, parse_mode=ParseMode.HTML,
                reply_markup=markup(lane_keyboard(v, self.texts)), link_preview_options=NO_PREVIEW,
            ))  # fmt: skip


async def _quietly(call: object) -> None:
    """Answer a press or edit its card; a refusal (an old query, an unchanged card) is only logged."""
    try:
        await call  # type: ignore[misc]
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.info("mentions lane: Telegram said %s", exc.message)
    except TelegramError as exc:
        log.warning("mentions lane: %s", exc)
