"""The customer's private chat with the bot: the link's /start binds the customer to their
complaint, then every message and button goes to the conversation machine through the journal.
What the machine answers is queued in the outbox and sent by the dispatcher, so nothing is
lost or repeated across restarts. The bot itself answers only what needs no journal: /status
and the polite refusals for links that are not theirs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from core.inbox import Staff
from core.model import Flag, Triage
from core.ports import Customer, InThread
from responders.conversation import CustomerText, Event
from responders.conversation_words import Texts

log = logging.getLogger("reclaim.customer")


class Replied(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def complaint_id(self) -> int | None: ...


class ConversationStore(Protocol):
    def bind(self, token: str, who: Customer, update_id: int | None) -> Replied: ...
    def customer_text(self, who: Customer, event: CustomerText, update_id: int | None) -> Replied: ...
    def open_private(self, who: Customer, event: CustomerText, triage: Triage, update_id: int | None) -> Replied: ...
    def customer_button(self, who: Customer, complaint_id: int, value: str, update_id: int | None) -> Replied: ...
    def status_of(self, user_id: int) -> tuple[int, list[str]] | None: ...
    def forget(self, user_id: int) -> int: ...
    def presets(self, complaint_id: int) -> list[str]: ...
    def staff_step(self, complaint_id: int, event: Event, who: Staff, update_id: int | None) -> Replied: ...
    def slip_reason(self, complaint_id: int, reason: str, who: Staff, update_id: int | None) -> Replied: ...
    def owner_says(self, complaint_id: int, text: str, who: Staff, update_id: int | None) -> Replied: ...


@dataclass(frozen=True)
class Who:
    user_id: int
    chat_id: int
    name: str | None = None
    username: str | None = None


@dataclass
class CustomerDesk:
    store: ConversationStore
    texts_for: Callable[[str], Texts]
    languages: tuple[str, ...]
    # triage of a private message (language, category, flags such as insults or a manager request)
    classify: Callable[[str], Triage]
    wake: asyncio.Event
    db: InThread = asyncio.to_thread

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        private = filters.ChatType.PRIVATE
        app.add_handler(CommandHandler("start", self.on_start, private))
        app.add_handler(CommandHandler("status", self.on_status, private))
        app.add_handler(CommandHandler("manager", self.on_manager, private))
        app.add_handler(CommandHandler("forget", self.on_forget, private))
        content = (filters.TEXT | filters.PHOTO | filters.Document.ALL) & ~filters.COMMAND
        app.add_handler(MessageHandler(private & content, self.on_message))
        app.add_handler(CallbackQueryHandler(self.on_button, pattern=r"^p:"))

    def _texts(self, update: Update) -> Texts:
        user = update.effective_user
        code = (user.language_code or "")[:2] if user else ""
        return self.texts_for(code if code in self.languages else self.languages[0])

    @staticmethod
    def _who(update: Update) -> Who | None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or user.is_bot:
            return None
        return Who(user.id, chat.id, user.first_name, user.username)

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        who, message = self._who(update), update.effective_message
        if who is None or message is None:
            return
        token = (context.args or [""])[0].strip()
        if not token:
            await self._text(update, who, message.text or "/start", manager=False)
            return
        replied = await self.db(self.store.bind, token, who, update.update_id)
        if replied.status == "taken":
            await message.reply_text(self._texts(update).t("link.taken"))
        elif replied.status == "unknown":
            await message.reply_text(self._texts(update).t("link.unknown"))
        else:
            self.wake.set()

    async def on_status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        who, message = self._who(update), update.effective_message
        if who is None or message is None:
            return
        found = await self.db(self.store.status_of, who.user_id)
        if found is None:
            await message.reply_text(self._texts(update).t("link.nothing_open"))
        else:
            await message.reply_text("\n".join(found[1]))

    async def on_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        who, message = self._who(update), update.effective_message
        if who is None or message is None:
            return
        await self.db(self.store.forget, who.user_id)
        await message.reply_text(self._texts(update).t("link.forgotten"))

    async def on_manager(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        who, message = self._who(update), update.effective_message
        if who is not None and message is not None:
            await self._text(update, who, message.text or "/manager", manager=True)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        who, message = self._who(update), update.effective_message
        if who is None or message is None:
            return
        text = message.text or message.caption or ""
        flags = self.classify(text).flags if text else ()
        insult, manager = Flag.PROFANITY in flags, Flag.MANAGER_REQUEST in flags
        await self._text(update, who, text or "📎", manager=manager, insult=insult, attachment=not message.text)

    async def _text(
        self, update: Update, who: Who, text: str, *, manager: bool, insult: bool = False, attachment: bool = False
    ) -> None:
        message = update.effective_message
        event = CustomerText(text, insult=insult, manager=manager, attachment=attachment)
        if message is not None and attachment:
            event = CustomerText(text, insult, manager, attachment, message_id=message.message_id)
        replied = await self.db(self.store.customer_text, who, event, update.update_id)
        if replied.status == "none" and not text.startswith("/") and text != "📎":
            triage = self.classify(text)
            replied = await self.db(self.store.open_private, who, event, triage, update.update_id)
        elif replied.status == "none" and message is not None:
            await message.reply_text(self._texts(update).t("link.nothing_open"))
        if replied.status in ("applied", "opened"):
            self.wake.set()

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, who = update.callback_query, self._who(update)
        if query is None or query.data is None or who is None:
            return
        _, cid, value = [*query.data.split(":", 2), "", ""][:3]
        if not cid.isdigit():
            await query.answer()
            return
        replied = await self.db(self.store.customer_button, who, int(cid), value, update.update_id)
        await query.answer()
        if replied.status == "applied":
            self.wake.set()
            if query.message is not None:  # a chosen button cannot be pressed again
                try:
                    await context.bot.edit_message_reply_markup(query.message.chat.id, query.message.message_id)
                except Exception as exc:  # cosmetic
                    log.info("could not remove the buttons: %s", exc)
