"""The staff chat's handlers: card buttons (approve, edit, reject, take, posted) and replies to
the bot's questions. Only configured staff ids may act; the journal decides, the bot only shows."""

from __future__ import annotations

import asyncio
import html
import logging
from dataclasses import dataclass, field

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.cards import Keyboard, parse_data, reject_keyboard, take_keyboard
from bot.texts import StaffTexts
from core.inbox import MAX_DRAFT, Applied, InboxStore, Staff

log = logging.getLogger("reclaim.bot")


def markup(rows: Keyboard) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows])


@dataclass
class StaffDesk:
    """Handlers bound to the journal, the texts and the dispatcher that redraws cards."""

    store: InboxStore
    texts: StaffTexts
    staff_chat_id: int
    staff_ids: frozenset[int]
    redraw: asyncio.Event
    # held from sending a question until it is in the journal, so a quick answer finds it
    prompting: asyncio.Lock = field(default_factory=asyncio.Lock)

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        app.add_handler(CallbackQueryHandler(self.on_button, pattern=r"^c:"))
        reply = filters.Chat(self.staff_chat_id) & filters.REPLY & filters.TEXT & ~filters.COMMAND
        app.add_handler(MessageHandler(reply, self.on_reply))

    def notice(self, applied: Applied, owner: str | None = None) -> str:
        key = applied.notice
        if not self.texts.has("notice", key):
            return ""
        return self.texts.t("notice", key, owner=owner or "?", max=MAX_DRAFT)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button on a complaint card was pressed."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        user = query.from_user
        if user.id not in self.staff_ids:
            log.warning("refused a button press by non-staff user %s", user.id)
            await self._answer(query.answer(self.texts.t("notice", "refused"), show_alert=True))
            return
        parsed = parse_data(query.data)
        if parsed is None:
            await self._answer(query.answer())
            return
        cid, action, arg = parsed
        who = Staff(user.id, user.full_name)
        applied = await asyncio.to_thread(self.store.act, cid, action, who, arg, update.update_id)
        owner = None
        if applied.ask == "confirm_take":
            view = await asyncio.to_thread(self.store.card, cid)
            owner = view.owner_name if view else None
        await self._answer(query.answer(self.notice(applied, owner)))
        if applied.changed:
            self.redraw.set()
        message = query.message
        if applied.ask in ("confirm_take", "reject_reason") and message is not None:
            rows = take_keyboard(cid, self.texts) if applied.ask == "confirm_take" else reject_keyboard(cid, self.texts)
            await self._answer(
                context.bot.edit_message_reply_markup(message.chat.id, message.message_id, reply_markup=markup(rows))
            )
        elif applied.ask in ("edit_text", "reject_text") and message is not None:
            await self._prompt(context, message.chat.id, message.message_id, cid, who, applied.ask)

    async def _prompt(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, card_id: int, cid: int, who: Staff, purpose: str
    ) -> None:
        key = "edit_prompt" if purpose == "edit_text" else "reject_prompt"
        mention = f'<a href="tg://user?id={who.id}">{html.escape(who.name)}</a>'
        text = f"{mention}, {html.escape(self.texts.t('notice', key, id=cid))}"
        async with self.prompting:
            sent = await context.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_parameters=ReplyParameters(card_id, allow_sending_without_reply=True),
                reply_markup=ForceReply(selective=True),
            )
            await asyncio.to_thread(self.store.add_prompt, chat_id, sent.message_id, cid, who.id, purpose)

    async def on_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A staff member replied to one of the bot's questions (a new draft, a reject reason)."""
        message = update.effective_message
        if message is None or message.reply_to_message is None or message.from_user is None or not message.text:
            return
        async with self.prompting:
            prompt = await asyncio.to_thread(
                self.store.find_prompt, message.chat.id, message.reply_to_message.message_id
            )
        if prompt is None:
            return  # an ordinary conversation in the staff chat
        user = message.from_user
        if user.id not in self.staff_ids:
            await message.reply_text(self.texts.t("notice", "refused"))
            return
        if user.id != prompt.user_id:
            await message.reply_text(self.texts.t("notice", "not_yours"))
            return
        who = Staff(user.id, user.full_name)
        applied = await asyncio.to_thread(self.store.save_edit, prompt, who, message.text, update.update_id)
        if applied.duplicate:
            return
        if applied.changed:
            self.redraw.set()
        text = self.notice(applied)
        if text:
            await message.reply_text(text)

    @staticmethod
    async def _answer(call: object) -> None:
        """Await a Telegram call whose failure only costs a toast (an old query, an unchanged markup)."""
        try:
            await call  # type: ignore[misc]
        except BadRequest as exc:
            log.info("telegram refused a cosmetic call: %s", exc.message)
        except TelegramError as exc:
            log.warning("telegram call failed: %s", exc)
