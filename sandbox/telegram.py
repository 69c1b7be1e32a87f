"""A local Telegram Bot API server: the real python-telegram-bot talks to it through ``base_url``,
and tests (or a person, through ``/ui``) act as Telegram users.

It answers like Telegram where the bot could go wrong: malformed HTML, texts over 4096
characters, edits that change nothing, unknown messages, and floods (429 with retry_after).
Run it alone with ``python -m sandbox.telegram``.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from sandbox.tghtml import EntityError, parse, utf16_len

TOKEN = "123456:LOCAL-TEST-TOKEN"  # noqa: S105 - the local server's own, not a secret
JSON_FIELDS = {"reply_markup", "reply_parameters", "link_preview_options", "allowed_updates", "commands", "entities"}
SENDING = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument", "sendPhoto", "deleteMessage"}
MAX_TEXT = 4096


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up mid-answer (a bot stopping its long poll) is not news."""


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class Limits:
    """Flood limits as Telegram applies them; None switches one off."""

    overall: tuple[int, float] | None = (30, 1.0)
    per_group: tuple[int, float] | None = (20, 60.0)


@dataclass
class State:
    bot: dict[str, Any]
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    order: dict[int, list[int]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    commands: list[dict[str, Any]] = field(default_factory=list)
    sends: list[tuple[float, int, str]] = field(default_factory=list)  # (time, chat, method) accepted
    rejected_floods: int = 0
    edit_times: dict[tuple[int, int], list[float]] = field(default_factory=dict)  # monotonic, per message
    stored_at: dict[tuple[int, int], float] = field(default_factory=dict)  # monotonic: when a message arrived
    answer_times: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # file_id → what was uploaded


class BotApiServer:
    """Thread-served Bot API; every public method is safe to call from tests while it runs."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: Limits | None = None,
        bot_username: str = "nordlys_care_bot",
    ) -> None:
        self.token = token
        self.refuse_until = 0.0  # time.monotonic() before which every call is refused as Unauthorized
        self.limits = limits or Limits(None, None)
        bot_id = int(token.split(":", 1)[0])
        self.state = State(bot={"id": bot_id, "is_bot": True, "first_name": "Reclaim", "username": bot_username})
        self.cond = threading.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callback_ids = itertools.count(1)
        self._windows: dict[int | None, deque[float]] = {}
        from sandbox.tghttp import handler_for  # the HTTP face needs this module's types

        self.httpd = _Quiet((host, port), handler_for(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="bot-api", daemon=True)

    # -- life cycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        return self.url + "/bot"

    def start(self) -> BotApiServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        with self.cond:
            self.cond.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- acting as users --------------------------------------------------------------------
    def add_user(self, user_id: int, first_name: str, username: str | None = None, **extra: Any) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name, **extra}
        if username:
            user["username"] = username
        with self.cond:
            self.state.users[user_id] = user
        return user

    def add_group(self, chat_id: int, title: str, kind: str = "supergroup") -> dict[str, Any]:
        chat = {"id": chat_id, "type": kind, "title": title}
        with self.cond:
            self.state.chats[chat_id] = chat
        return chat

    def send_text(
        self, chat_id: int, user_id: int, text: str, reply_to: int | None = None, **extra: Any
    ) -> dict[str, Any]:
        """A user writes ``text`` in a chat (a private chat when chat_id == user_id); ``extra``
        fields go into the message as they are (``sender_chat``, ``is_automatic_forward``, ...)."""
        with self.cond:
            user = self.state.users[user_id]
            chat = self.state.chats.get(chat_id)
            if chat is None:
                if chat_id != user_id:
                    raise KeyError(f"no chat {chat_id}; add_group first")
                chat = {"id": user_id, "type": "private", "first_name": user["first_name"]}
                self.state.chats[chat_id] = chat
            message: dict[str, Any] = {"from": user, "text": text, **extra}
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
            if reply_to is not None:
                message["reply_to_message"] = self._get(chat_id, reply_to)
            stored = self._store(chat_id, message)
            self._push({"message": stored})
            return stored

    def send_photo(self, chat_id: int, user_id: int, caption: str | None = None) -> dict[str, Any]:
        """A user sends a photo (with an optional caption) in a chat."""
        with self.cond:
            user = self.state.users[user_id]
            private = {"id": user_id, "type": "private", "first_name": user["first_name"]}
            chat = self.state.chats.setdefault(chat_id, private)
            size = len(self.state.messages) + 1
            photo = [{"file_id": f"photo{size}", "file_unique_id": f"p{size}", "width": 800, "height": 600}]
            message: dict[str, Any] = {"from": user, "photo": photo}
            if caption:
                message["caption"] = caption
            stored = self._store(chat["id"], message)
            self._push({"message": stored})
            return stored

    def press(
        self,
        chat_id: int,
        message_id: int,
        user_id: int,
        *,
        data: str | None = None,
        label: str | None = None,
        check: bool = True,
    ) -> str:
        """A user presses an inline button (by its callback data or its label); returns the query id.
        ``check=False`` sends ``data`` even if the button is gone (a client with a stale message)."""
        with self.cond:
            message = self._get(chat_id, message_id)
            buttons = [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]
            if not check and data is not None:
                buttons = [{"text": "?", "callback_data": data}]
            match = [
                b for b in buttons if (data is not None and b.get("callback_data") == data) or b.get("text") == label
            ]
            if not match:
                raise LookupError(
                    f"no button {data or label!r} on message {message_id}: {[b.get('text') for b in buttons]}"
                )
            query_id = str(next(self._callback_ids))
            query = {
                "id": query_id,
                "from": self.state.users[user_id],
                "message": message,
                "chat_instance": str(chat_id),
                "data": match[0]["callback_data"],
            }
            self._push({"callback_query": query})
            return query_id

    # -- reading what the bot did ---------------------------------------------------------------
    def messages(self, chat_id: int, *, from_bot: bool = True) -> list[dict[str, Any]]:
        with self.cond:
            out = [self.state.messages[(chat_id, mid)] for mid in self.state.order.get(chat_id, [])]
        return [m for m in out if (m["from"]["id"] == self.state.bot["id"]) == from_bot]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        with self.cond:
            return self._get(chat_id, message_id)

    def answer(self, query_id: str) -> dict[str, Any] | None:
        with self.cond:
            return self.state.answers.get(query_id)

    def answered_at(self, query_id: str) -> float:
        with self.cond:
            return self.state.answer_times[query_id]

    def first_edit_after(self, chat_id: int, message_id: int, since: float, timeout: float = 10.0) -> float | None:
        """When the message was first edited after ``since`` (time.monotonic), or None."""
        try:
            return float(
                self.wait_for(
                    lambda: next((t for t in self.state.edit_times.get((chat_id, message_id), []) if t >= since), None),
                    timeout,
                )
            )
        except TimeoutError:
            return None

    def pending_updates(self) -> int:
        with self.cond:
            return len(self.state.updates)

    def wait_for(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``check()`` returns something truthy (re-checked on every bot call)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = check()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the bot did not do that in time")
                self.cond.wait(min(left, 0.05))

    # -- internals (called with self.cond held) ---------------------------------------------------
    def _get(self, chat_id: int, message_id: int) -> dict[str, Any]:
        try:
            return self.state.messages[(chat_id, message_id)]
        except KeyError:
            raise ApiError(400, "Bad Request: message to edit not found") from None

    def _store(self, chat_id: int, message: dict[str, Any]) -> dict[str, Any]:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        message = {"message_id": next(counter), "date": int(time.time()), "chat": self.state.chats[chat_id], **message}
        self.state.messages[(chat_id, message["message_id"])] = message
        self.state.stored_at[(chat_id, message["message_id"])] = time.monotonic()
        self.state.order.setdefault(chat_id, []).append(message["message_id"])
        self.cond.notify_all()
        return message

    def _push(self, update: dict[str, Any]) -> None:
        self.state.updates.append({"update_id": next(self._update_ids), **update})
        self.cond.notify_all()

    def _flood_check(self, chat_id: int | None) -> None:
        now = time.monotonic()
        checks: list[tuple[int | None, tuple[int, float]]] = []
        if self.limits.overall:
            checks.append((None, self.limits.overall))
        if self.limits.per_group and chat_id is not None and chat_id < 0:
            checks.append((chat_id, self.limits.per_group))
        for key, (count, per) in checks:
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - per:
                window.popleft()
            if len(window) >= count:
                self.state.rejected_floods += 1
                retry = max(1, int(window[0] + per - now + 0.999))
                raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        for key, _ in checks:
            self._windows[key].append(now)

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """Run one Bot API method (the HTTP handler's entry point)."""
        from sandbox import tgmethods

        if method == "getUpdates":
            return tgmethods.get_updates(self, params)
        with self.cond:
            self.state.calls[method] = self.state.calls.get(method, 0) + 1
            impl = tgmethods.METHODS.get(method)
            if impl is None:
                raise ApiError(404, "Not Found: method not found")
            if method in SENDING:
                chat = params.get("chat_id")
                self._flood_check(int(chat) if chat is not None else None)
            result = impl(self, params)
            if method in SENDING:
                self.state.sends.append((time.monotonic(), int(params.get("chat_id", 0)), method))
            self.cond.notify_all()
            return result

    def check_text(self, text: Any, parse_mode: str | None) -> str:
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        visible = text
        if parse_mode and parse_mode.upper() == "HTML":
            try:
                visible = parse(text)
            except EntityError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if utf16_len(visible) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return visible


def main() -> None:  # pragma: no cover - a manual tool
    import argparse

    parser = argparse.ArgumentParser(description="A local Telegram Bot API server for Reclaim.")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=TOKEN)
    args = parser.parse_args()
    with BotApiServer(token=args.token, port=args.port) as server:
        print(f"Bot API at {server.base_url} (token {args.token}); watch at {server.url}/ui", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
