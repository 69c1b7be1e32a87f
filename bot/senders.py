"""One sender per outbox kind (core/outbox.py): how an alert, a reply in a Telegram group, a
message to a customer, a relay to the staff thread, a reminder and a document go out through
the Bot API. The dispatcher (bot/dispatch.py) claims a row, calls the sender SENDERS names for
its kind, and records the outcome; what a sender returns is kept as the row's result."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.cards import alert_excerpt, clock, e, lane_keyboard, lane_text, span
from core.outbox import (
    Alert,
    Amend,
    Amender,
    Document,
    MentionCard,
    OutboxItem,
    OutboxKind,
    Publish,
    PublishRefused,
    Relay,
    Remind,
    Say,
)
from core.platforms import telegram_message_url

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
Result = dict[str, object]


def alert_text(d: Dispatcher, item: OutboxItem, p: Alert) -> str:
    """A manager alert: what happened, on which source, the start of the post, the owner, the card."""
    t = d.texts
    if p.reason == "spike":
        window = span(timedelta(seconds=p.window_seconds or 3600), t)
        return e(t.t("alert", "spike", count=p.count, window=window))
    if p.reason == "stalled":
        return e(t.t("alert", "stalled", count=p.count, sources=p.cause))
    if p.reason == "worker_gone":
        since = datetime.fromisoformat(p.due) if p.due else d.clock()
        return e(t.t("alert", "worker_gone", worker=p.cause, since=clock(since, d.clock(), d.zone)))
    if p.reason == "recovered":
        since = datetime.fromisoformat(p.due) if p.due else d.clock()
        return e(t.t("alert", "recovered", since=clock(since, d.clock(), d.zone)))
    view = d.store.card(item.complaint_id) if item.complaint_id is not None else None
    if view is None:
        return e(f"{p.reason} #{item.complaint_id}")
    due = clock(view.due, d.clock(), d.zone)
    extra = {k: str(v).replace("_", " ") for k, v in (("cause", p.cause), ("action", p.action)) if v is not None}
    head = t.t("alert", p.reason, id=view.id, source=view.source, severity=view.severity, due=due, **extra)
    owner = t.t("alert", "owner", owner=view.owner_name) if view.owner_name else t.t("alert", "no_owner")
    lines = [f"<b>{e(head)}</b>", e(alert_excerpt(view, t, d.mask)), e(owner)]
    if view.card_message_id and view.card_chat_id:
        link = telegram_message_url(view.card_chat_id, view.card_message_id)
        if link:
            lines.append(f'<a href="{e(link)}">{e(t.t("alert", "card"))}</a>')
    return "\n".join(lines)


async def send_alert(d: Dispatcher, item: OutboxItem, p: Alert) -> Result:
    if item.complaint_id is not None:  # its card first, so the alert can link to it
        for cid, version in await d.db(d.store.due_cards, 1, item.complaint_id):
            await d.card(cid, version)
    text = await d.db(alert_text, d, item, p)
    sent = await d.bot.send_message(d.alerts_chat_id, text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)
    return {"chat_id": d.alerts_chat_id, "message_id": sent.message_id}


async def send_say(d: Dispatcher, item: OutboxItem, p: Say) -> Result:
    """Messages to a customer, in order; progress is kept so a retry never repeats one."""
    ids = []
    for n in range(p.sent, len(p.messages)):
        m = p.messages[n]
        rows = [
            [InlineKeyboardButton(label, callback_data=f"p:{item.complaint_id}:{value}") for label, value in row]
            for row in m.buttons
        ]
        keyboard = InlineKeyboardMarkup(rows) if rows else None
        sent = await d.bot.send_message(p.chat_id, m.text, reply_markup=keyboard, link_preview_options=NO_PREVIEW)
        ids.append(sent.message_id)
        if n + 1 < len(p.messages):
            await d.db(d.store.progress, item.id, n + 1)
    return {"chat_id": p.chat_id, "message_ids": ids}


async def _in_thread(d: Dispatcher, complaint_id: int | None) -> tuple[Any, ReplyParameters | None]:
    """The complaint's card, and a reply to it where it is in the staff chat (its thread)."""
    view = await d.db(d.store.card, complaint_id) if complaint_id is not None else None
    if view is None or not view.card_message_id or view.card_chat_id != d.staff_chat_id:
        return view, None
    return view, ReplyParameters(view.card_message_id, allow_sending_without_reply=True)


async def send_relay(d: Dispatcher, item: OutboxItem, p: Relay) -> Result:
    """A customer's message to the complaint's thread in the staff chat (replies go back)."""
    cid = item.complaint_id
    _view, reply = await _in_thread(d, cid)
    head = e(d.texts.t("notice", "relay_header", id=cid, name=p.name or "?"))
    body = f"<b>{head}</b>\n{e(p.text)}" if p.text and p.text != "📎" else f"<b>{head}</b>"
    sent = await d.bot.send_message(
        d.staff_chat_id, body, parse_mode=ParseMode.HTML, reply_parameters=reply, link_preview_options=NO_PREVIEW
    )
    ids = [sent.message_id]
    if p.message_id and p.chat_id is not None:
        under = ReplyParameters(sent.message_id, allow_sending_without_reply=True)
        copied = await d.bot.copy_message(d.staff_chat_id, p.chat_id, p.message_id, reply_parameters=under)
        ids.append(copied.message_id)
    if cid is not None:
        for mid in ids:
            await d.db(d.store.add_prompt, d.staff_chat_id, mid, cid, 0, "relay")
    return {"chat_id": d.staff_chat_id, "message_ids": ids}


async def send_remind(d: Dispatcher, item: OutboxItem, p: Remind) -> Result:
    """Tell the owner, in the complaint's thread, that a time promised to the customer is near."""
    view, reply = await _in_thread(d, item.complaint_id)
    if view is None:
        return {"skipped": True}
    owner = view.owner_name or d.texts.t("card", "nobody")
    text = e(d.texts.t("notice", "remind", id=view.id, owner=owner, due=clock(p.due, d.clock(), d.zone)))
    if view.owner_id:
        text = f'<a href="tg://user?id={view.owner_id}">{e(owner)}</a>: ' + text
    sent = await d.bot.send_message(
        d.staff_chat_id, text, parse_mode=ParseMode.HTML, reply_parameters=reply, link_preview_options=NO_PREVIEW
    )
    return {"chat_id": d.staff_chat_id, "message_id": sent.message_id}


async def send_document(d: Dispatcher, item: OutboxItem, p: Document) -> Result:
    """A file for the managers (the monthly review), made when it is sent."""
    if d.documents is None:
        raise ValueError("no document maker configured")
    name, data, caption = await asyncio.to_thread(d.documents, p)
    sent = await d.bot.send_document(
        d.alerts_chat_id, InputFile(data, filename=name), caption=caption[:1024], filename=name
    )
    return {"chat_id": d.alerts_chat_id, "message_id": sent.message_id, "file": name, "bytes": len(data)}


async def send_publish(d: Dispatcher, item: OutboxItem, p: Publish) -> Result:
    """A public reply: by the source's publisher, or by the bot itself in a Telegram group."""
    if p.publisher in d.publishers:
        return await d.publishers[p.publisher](item)
    if p.publisher != "telegram":
        raise PublishRefused(f"there is no automatic publisher for {p.publisher!r}: post it by hand")
    origin = p.origin or {}
    chat_id = int(origin["chat_id"])
    message_id = int(p.reply_to or origin["message_id"])  # a follow-up answers our reply
    thread = origin.get("thread_id")
    try:
        sent = await d.bot.send_message(
            chat_id,
            p.text,
            reply_parameters=ReplyParameters(message_id, allow_sending_without_reply=p.follow_up),
            message_thread_id=int(thread) if thread else None,
            link_preview_options=NO_PREVIEW,
        )
    except Forbidden as exc:
        raise PublishRefused(f"Telegram: the bot cannot write in that group ({exc.message})") from exc
    except BadRequest as exc:
        if "not found" in exc.message.lower() or "deleted" in exc.message.lower():
            raise PublishRefused(f"Telegram: the message to answer is gone ({exc.message})") from exc
        raise
    url = telegram_message_url(chat_id, sent.message_id)
    return {"id": f"{chat_id}:{sent.message_id}", "url": url, "chat_id": chat_id, "message_id": sent.message_id}


async def send_mention(d: Dispatcher, item: OutboxItem, p: MentionCard) -> Result:
    """A mention's compact card in the staff chat (the mentions lane); skipped once someone acted
    on it elsewhere (the dashboard) or it left the journal."""
    if d.lane is None:
        raise ValueError("no mentions lane in this process")
    view = await d.db(d.lane.view, p.mention_id)
    if view is None or view.lane != "open":
        return {"skipped": True}
    rows = [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in lane_keyboard(view, d.texts)]
    sent = await d.bot.send_message(
        d.staff_chat_id, lane_text(view, d.texts), parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup(rows), link_preview_options=NO_PREVIEW,
    )  # fmt: skip
    return {"chat_id": d.staff_chat_id, "message_id": sent.message_id}


async def send_amend(d: Dispatcher, item: OutboxItem, p: Amend) -> Result:
    """Our published reply edited in place or taken down: by the source's publisher (Reddit), or
    by the bot itself in a Telegram group (editMessageText, deleteMessage)."""
    publisher = d.publishers.get(p.publisher)
    if isinstance(publisher, Amender):
        return await publisher.amend(item)
    if p.publisher != "telegram":
        raise PublishRefused(f"{p.publisher!r} replies cannot be edited or withdrawn from here")
    chat, _, message = p.reply_id.rpartition(":")
    chat_id, message_id = int(chat), int(message)
    try:
        if p.text is None:
            await d.bot.delete_message(chat_id, message_id)
            return {"deleted": True}
        await d.bot.edit_message_text(p.text, chat_id=chat_id, message_id=message_id, link_preview_options=NO_PREVIEW)
    except Forbidden as exc:
        raise PublishRefused(f"Telegram: the bot cannot change messages in that group ({exc.message})") from exc
    except BadRequest as exc:
        said = exc.message.lower()
        if "not modified" in said:
            return {"edited": True, "unchanged": True}
        if p.text is None and "message to delete not found" in said:  # gone already: an earlier try got through
            return {"deleted": True, "already": True}
        raise PublishRefused(f"Telegram: {exc.message}") from exc
    return {"edited": True}


Sender = Callable[["Dispatcher", OutboxItem, Any], Awaitable[Result]]
SENDERS: dict[OutboxKind, tuple[type, Sender]] = {
    OutboxKind.ALERT: (Alert, send_alert),
    OutboxKind.PUBLISH: (Publish, send_publish),
    OutboxKind.SAY: (Say, send_say),
    OutboxKind.RELAY: (Relay, send_relay),
    OutboxKind.REMIND: (Remind, send_remind),
    OutboxKind.DOCUMENT: (Document, send_document),
    OutboxKind.MENTION: (MentionCard, send_mention),
    OutboxKind.AMEND: (Amend, send_amend),
}


async def send(d: Dispatcher, item: OutboxItem) -> Result:
    """The row's sender; ValueError for a payload that is not its kind's (nothing can send it)."""
    payload_type, sender = SENDERS[item.kind]
    if not isinstance(item.payload, payload_type):
        raise ValueError(f"a {item.kind} row without a {payload_type.__name__} to send")
    return await sender(d, item, item.payload)
