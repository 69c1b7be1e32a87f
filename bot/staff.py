"""The staff chat's handlers: card buttons (approve, edit, reject, take, posted) and replies to
the bot's questions. Only configured staff ids may act; the journal decides, the bot only shows."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from telegram import ForceReply, Message, ReplyParameters, Update, User
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.cards import (
    cause_keyboard,
    justified_keyboard,
    parse_data,
    reject_keyboard,
    take_keyboard,
    withdraw_keyboard,
)
from bot.customer import ConversationStore
from bot.dispatch import markup
from bot.texts import StaffTexts
from core.inbox import MAX_DRAFT, Staff
from core.ports import Applied, CardView, InThread, Prompt, StaffStore
from responders.conversation import Event, OptionsProposed, PromiseSet, Resolved
from responders.conversation_words import choose_options, parse_when

log = logging.getLogger("reclaim.bot")
# what the bot asks a staff member for → the question's text key
PROMPTS = {
    "edit_text": "edit_prompt",
    "reject_text": "reject_prompt",
    "options_text": "options_prompt",
    "resolved_text": "resolved_prompt",
    "time_text": "time_prompt",
    "slip_text": "slip_prompt",
    "follow_up_text": "follow_up_prompt",
    "cause_text": "cause_prompt",
    "reply_edit_text": "reply_edit_prompt",
}
TO_CUSTOMER = ("relay", "options_text", "resolved_text", "time_text", "slip_text")
MAX_OPTIONS = 8


@dataclass
class StaffDesk:
    """Handlers bound to the journal, the texts and the dispatcher that redraws cards."""

    store: StaffStore
    texts: StaffTexts
    staff_chat_id: int
    staff_ids: frozenset[int]
    redraw: asyncio.Event
    # held from sending a question until it is in the journal, so a quick answer finds it
    prompting: asyncio.Lock = field(default_factory=asyncio.Lock)
    db: InThread = asyncio.to_thread
    # draws a card at a version at once (the dispatcher's); without it the dispatcher is woken
    paint: Callable[[int, int, CardView], Awaitable[None]] | None = None
    conversations: ConversationStore | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    causes: list[str] = field(default_factory=list)  # review.causes, in their order

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
        applied = await self.db(self.store.act, cid, action, who, arg, update.update_id)
        owner = None
        if applied.ask == "confirm_take":
            view = await self.db(self.store.card, cid)
            owner = view.owner_name if view else None
        answer = self._answer(query.answer(self.notice(applied, owner)))
        if applied.changed and applied.card is not None and self.paint is not None:
            await asyncio.gather(answer, self.paint(cid, applied.version, applied.card))
        else:
            await answer
            if applied.changed:
                self.redraw.set()
        message = query.message
        choices = {
            "confirm_take": lambda: take_keyboard(cid, self.texts),
            "confirm_withdraw": lambda: withdraw_keyboard(cid, self.texts),
            "reject_reason": lambda: reject_keyboard(cid, self.texts),
            "cause": lambda: cause_keyboard(cid, self.causes, self.texts),
            "justified": lambda: justified_keyboard(cid, self.texts),
        }
        if applied.ask in choices and message is not None:
            rows = choices[applied.ask]()  # after the redraw above: the question replaces its buttons
            await self._answer(
                context.bot.edit_message_reply_markup(message.chat.id, message.message_id, reply_markup=markup(rows))
            )
        elif applied.ask in PROMPTS and message is not None:
            await self._prompt(context, message.chat.id, message.message_id, cid, who, applied.ask)

    async def _prompt(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, card_id: int, cid: int, who: Staff, purpose: str
    ) -> None:
        key = PROMPTS[purpose]
        mention = f'<a href="tg://user?id={who.id}">{html.escape(who.name)}</a>'
        text = f"{mention}, {html.escape(self.texts.t('notice', key, id=cid))}"
        if purpose == "options_text" and self.conversations is not None:
            presets = await self.db(self.conversations.presets, cid)
            if presets:  # in the customer's language: reply "1, 3" to offer them, or write your own
                text += "\n" + html.escape(self.texts.t("notice", "presets"))
                text += "".join(f"\n{n}. {html.escape(label)}" for n, label in enumerate(presets, 1))
        async with self.prompting:
            sent = await context.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_parameters=ReplyParameters(card_id, allow_sending_without_reply=True),
                reply_markup=ForceReply(selective=True),
            )
            await self.db(self.store.add_prompt, chat_id, sent.message_id, cid, who.id, purpose)

    async def on_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A staff member replied to one of the bot's questions (a new draft, a reject reason)."""
        message = update.effective_message
        if message is None or message.reply_to_message is None or message.from_user is None or not message.text:
            return
        prompt = await self._prompt_of(message.chat.id, message.reply_to_message, context.bot.id)
        if prompt is None:
            return  # an ordinary conversation in the staff chat
        user = message.from_user
        if user.id not in self.staff_ids:
            await message.reply_text(self.texts.t("notice", "refused"))
        elif prompt.purpose in TO_CUSTOMER and (prompt.purpose == "relay" or user.id == prompt.user_id):
            await self._conversation_reply(prompt.complaint_id, prompt.purpose, message.text, user, update)
        elif user.id != prompt.user_id:
            await message.reply_text(self.texts.t("notice", "not_yours"))
        else:
            await self._save_answer(prompt, Staff(user.id, user.full_name), message.text, update, context)

    async def _prompt_of(self, chat_id: int, original: Message, bot_id: int) -> Prompt | None:
        """The question a reply answers. A relayed customer message is recorded just after it is
        sent, so a very quick reply to one of ours may come first: look again briefly."""
        async with self.prompting:
            prompt = await self.db(self.store.find_prompt, chat_id, original.message_id)
        mine = original.from_user is not None and original.from_user.id == bot_id
        for _ in range(20 if prompt is None and mine else 0):
            await asyncio.sleep(0.1)
            prompt = await self.db(self.store.find_prompt, chat_id, original.message_id)
            if prompt is not None:
                break
        return prompt

    async def _save_answer(
        self, prompt: Prompt, who: Staff, text: str, update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> None:
        """A new draft, a reason, a cause or a follow-up text: saved, the card redrawn, the answer told."""
        message = update.effective_message
        applied = await self.db(self.store.save_edit, prompt, who, text, update.update_id)
        if applied.duplicate or message is None:
            return
        if applied.changed and applied.card is not None and self.paint is not None:
            await self.paint(prompt.complaint_id, applied.version, applied.card)
        elif applied.changed:
            self.redraw.set()
        card = applied.card
        if applied.ask == "justified" and card is not None and card.card_message_id and card.card_chat_id:
            rows = justified_keyboard(prompt.complaint_id, self.texts)
            edit = context.bot.edit_message_reply_markup(
                card.card_chat_id, card.card_message_id, reply_markup=markup(rows)
            )
            await self._answer(edit)
        notice = self.notice(applied)
        if notice:
            await message.reply_text(notice)

    async def _conversation_reply(self, cid: int, purpose: str, text: str, user: User, update: Update) -> None:
        """A staff reply that goes to the customer: to a relayed message, options, what was done."""
        message = update.effective_message
        if self.conversations is None or message is None:
            return
        who = Staff(user.id, user.full_name)
        if purpose == "relay":
            replied = await self.db(self.conversations.owner_says, cid, text, who, update.update_id)
            notice = "relay_sent"
        elif purpose == "options_text":
            presets = await self.db(self.conversations.presets, cid)
            event: Event = OptionsProposed(choose_options(text, presets)[:MAX_OPTIONS])
            replied = await self.db(self.conversations.staff_step, cid, event, who, update.update_id)
            notice = "options_sent"
        elif purpose == "time_text":
            due = parse_when(text, datetime.now(UTC), self.zone)
            if due is None:
                await message.reply_text(self.texts.t("notice", "time_unclear"))
                return
            replied = await self.db(self.conversations.staff_step, cid, PromiseSet(due), who, update.update_id)
            notice = "time_sent"
        elif purpose == "slip_text":
            replied = await self.db(self.conversations.slip_reason, cid, text.strip(), who, update.update_id)
            notice = "slip_saved"
        else:
            replied = await self.db(self.conversations.staff_step, cid, Resolved(text.strip()), who, update.update_id)
            notice = "resolved_sent"
        if replied.status == "duplicate":
            return
        if replied.status == "applied":
            self.redraw.set()
        key = {"none": "no_conversation", "ignored": "not_now_step", "forgotten": "customer_forgotten"}.get(
            replied.status, notice
        )
        await message.reply_text(self.texts.t("notice", key))

    @staticmethod
    async def _answer(call: object) -> None:
        """Await a Telegram call whose failure only costs a toast (an old query, an unchanged markup)."""
        try:
            await call  # type: ignore[misc]
        except BadRequest as exc:
            log.info("telegram refused a cosmetic call: %s", exc.message)
        except TelegramError as exc:
            log.warning("telegram call failed: %s", exc)
