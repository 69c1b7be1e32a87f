"""The Bot API methods of the local server (called with the server's lock held, but getUpdates)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.telegram import BotApiServer

MAX_CALLBACK_DATA = 64


def _error(code: int, text: str) -> Exception:
    from sandbox.telegram import ApiError

    return ApiError(code, text)


def get_updates(server: BotApiServer, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Long polling: confirm everything below ``offset``, then wait up to ``timeout`` seconds."""
    offset = int(params.get("offset") or 0)
    limit = max(1, min(int(params.get("limit") or 100), 100))
    deadline = time.monotonic() + float(params.get("timeout") or 0)
    with server.cond:
        server.state.calls["getUpdates"] = server.state.calls.get("getUpdates", 0) + 1
        if offset:
            server.state.updates = [u for u in server.state.updates if u["update_id"] >= offset]
        while True:
            ready = server.state.updates[:limit]
            left = deadline - time.monotonic()
            if ready or left <= 0 or not server.thread.is_alive():
                return ready
            server.cond.wait(left)


def _chat(server: BotApiServer, params: dict[str, Any]) -> dict[str, Any]:
    try:
        chat_id = int(params["chat_id"])
    except (KeyError, ValueError):
        raise _error(400, "Bad Request: chat not found") from None
    chat = server.state.chats.get(chat_id)
    if chat is None:
        if chat_id > 0:
            raise _error(403, "Forbidden: bot can't initiate conversation with a user")
        raise _error(400, "Bad Request: chat not found")
    return chat


def _markup(params: dict[str, Any]) -> dict[str, Any] | None:
    markup = params.get("reply_markup")
    if not markup:
        return None
    if not isinstance(markup, dict):
        raise _error(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not (1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA):
                raise _error(400, "Bad Request: BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise _error(400, "Bad Request: text buttons are unallowed in the inline keyboard")
    # like Telegram, a message carries only an inline keyboard; ForceReply & co. are not echoed
    return markup if "inline_keyboard" in markup else None


def send_message(server: BotApiServer, params: dict[str, Any]) -> dict[str, Any]:
    chat = _chat(server, params)
    html = params.get("text")
    visible = server.check_text(html, params.get("parse_mode"))
    message: dict[str, Any] = {"from": server.state.bot, "text": visible, "html": html}
    markup = _markup(params)
    if markup:
        message["reply_markup"] = markup
    reply = params.get("reply_parameters") or {}
    reply_id = reply.get("message_id") if isinstance(reply, dict) else None
    reply_id = reply_id or params.get("reply_to_message_id")
    if reply_id:
        original = server.state.messages.get((chat["id"], int(reply_id)))
        if original is None and not (isinstance(reply, dict) and reply.get("allow_sending_without_reply")):
            raise _error(400, "Bad Request: message to be replied not found")
        if original is not None:
            message["reply_to_message"] = original
    return server._store(chat["id"], message)


def edit_message_text(server: BotApiServer, params: dict[str, Any]) -> dict[str, Any]:
    chat = _chat(server, params)
    message = server._get(chat["id"], int(params.get("message_id") or 0))
    html = params.get("text")
    visible = server.check_text(html, params.get("parse_mode"))
    markup = _markup(params)
    if html == message.get("html") and markup == message.get("reply_markup"):
        raise _error(
            400,
            "Bad Request: message is not modified: specified new message content and reply markup are exactly "
            "the same as a current content and reply markup of the message",
        )
    message.update(text=visible, html=html, edit_date=int(time.time()))
    server.state.edit_times.setdefault((chat["id"], message["message_id"]), []).append(time.monotonic())
    if markup:
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)
    server.cond.notify_all()
    return message


def edit_message_reply_markup(server: BotApiServer, params: dict[str, Any]) -> dict[str, Any]:
    chat = _chat(server, params)
    message = server._get(chat["id"], int(params.get("message_id") or 0))
    markup = _markup(params)
    if markup == message.get("reply_markup"):
        raise _error(400, "Bad Request: message is not modified")
    if markup:
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)
    message["edit_date"] = int(time.time())
    server.state.edit_times.setdefault((chat["id"], message["message_id"]), []).append(time.monotonic())
    return message


def answer_callback_query(server: BotApiServer, params: dict[str, Any]) -> bool:
    query_id = str(params.get("callback_query_id"))
    if query_id in server.state.answers:
        raise _error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
    server.state.answer_times[query_id] = time.monotonic()
    server.state.answers[query_id] = {
        "text": params.get("text"),
        "show_alert": params.get("show_alert") in (True, "true"),
    }
    return True


def delete_message(server: BotApiServer, params: dict[str, Any]) -> bool:
    chat = _chat(server, params)
    key = (chat["id"], int(params.get("message_id") or 0))
    if server.state.messages.pop(key, None) is None:
        raise _error(400, "Bad Request: message to delete not found")
    server.state.order[chat["id"]].remove(key[1])
    return True


def send_document(server: BotApiServer, params: dict[str, Any]) -> dict[str, Any]:
    chat = _chat(server, params)
    doc = params.get("document")
    if not isinstance(doc, dict):
        raise _error(400, "Bad Request: there is no document in the request")
    caption = params.get("caption")
    file_id = f"doc{len(server.state.files) + 1}"
    server.state.files[file_id] = bytes(doc.pop("content", b""))
    message: dict[str, Any] = {
        "from": server.state.bot,
        "document": {
            "file_name": doc["filename"],
            "file_size": doc["size"],
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
        },
    }
    if caption:
        message["caption"] = server.check_text(caption, params.get("parse_mode"))
    return server._store(chat["id"], message)


def copy_message(server: BotApiServer, params: dict[str, Any]) -> dict[str, Any]:
    """Copies a message's content (text, photo, document, caption) to another chat."""
    chat = _chat(server, params)
    original = server._get(int(params.get("from_chat_id") or 0), int(params.get("message_id") or 0))
    message: dict[str, Any] = {"from": server.state.bot}
    for key in ("text", "photo", "document", "caption"):
        if key in original:
            message[key] = original[key]
    reply = params.get("reply_parameters") or {}
    reply_id = reply.get("message_id") if isinstance(reply, dict) else None
    if reply_id and (chat["id"], int(reply_id)) in server.state.messages:
        message["reply_to_message"] = dict(server.state.messages[(chat["id"], int(reply_id))])
    stored = server._store(chat["id"], message)
    return {"message_id": stored["message_id"]}


def set_my_commands(server: BotApiServer, params: dict[str, Any]) -> bool:
    server.state.commands = list(params.get("commands") or [])
    return True


def _get_me(server: BotApiServer, params: dict[str, Any]) -> dict[str, Any]:
    return dict(server.state.bot)


def _get_commands(server: BotApiServer, params: dict[str, Any]) -> list[dict[str, Any]]:
    return list(server.state.commands)


METHODS: dict[str, Callable[[BotApiServer, dict[str, Any]], Any]] = {
    "getMe": _get_me,
    "getChat": lambda s, p: dict(_chat(s, p)),  # a chat the bot is in; 400 "chat not found" otherwise
    "deleteWebhook": lambda s, p: True,
    "getWebhookInfo": lambda s, p: {"url": "", "has_custom_certificate": False, "pending_update_count": 0},
    "setMyCommands": set_my_commands,
    "getMyCommands": _get_commands,
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "answerCallbackQuery": answer_callback_query,
    "deleteMessage": delete_message,
    "sendDocument": send_document,
    "copyMessage": copy_message,
    "sendChatAction": lambda s, p: True,
    "close": lambda s, p: True,
}
