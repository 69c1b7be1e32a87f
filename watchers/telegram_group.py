"""Telegram groups the bot is a member of (privacy mode off), and channels' discussion groups:
a message as the Bot API gives it becomes a mention, pure. The bot's own long polling brings
the messages (bot/group.py); nothing is fetched here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from core.model import RawMention
from core.platforms import telegram_message_url
from core.text import normalise_whitespace
from watchers.kinds import PushKind
from watchers.options import SourceOptions


def author_name(user: Mapping[str, Any] | None) -> str | None:
    if not user:
        return None
    name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
    return name or (f"@{user['username']}" if user.get("username") else None)


def to_mention(message: Mapping[str, Any], *, language: str | None = None) -> RawMention | None:
    """A group message as a mention, or None for what is not a customer speaking: bots (ours
    included), posts made in the name of a channel or of the group itself (the company's own, and
    a channel post's automatic copy in its discussion group), service messages, empty ones."""
    chat = message.get("chat") or {}
    sender = message.get("from") or {}
    if chat.get("type") not in ("group", "supergroup") or not message.get("message_id"):
        return None
    if sender.get("is_bot") or message.get("sender_chat") or message.get("is_automatic_forward"):
        return None
    text = normalise_whitespace(str(message.get("text") or message.get("caption") or ""))
    if not text or text.startswith("/"):
        return None
    mid = int(message["message_id"])
    origin: dict[str, Any] = {"platform": "telegram", "chat_id": int(chat["id"]), "message_id": mid}
    if chat.get("title"):  # not the mention's title: a group named after the brand names nothing
        origin["chat_title"] = str(chat["title"])
    if message.get("is_topic_message") and message.get("message_thread_id"):
        origin["thread_id"] = int(message["message_thread_id"])
    date = message.get("date")
    published = datetime.fromtimestamp(date, UTC) if isinstance(date, int | float) else None
    return RawMention(
        external_id=f"{chat['id']}:{mid}",
        text=text,
        url=telegram_message_url(int(chat.get("id") or 0), mid, chat.get("username")),
        author=author_name(sender),
        title=None,
        published_at=published,
        language_hint=language,
        origin=origin,
    )


class TelegramGroupOptions(SourceOptions):
    """Groups (and channels' discussion groups) the bot is a member of, privacy mode off:
    messages naming the brand arrive with the bot's updates, nothing is polled."""

    kind: Literal["telegram_group"]
    chats: list[int] = Field(min_length=1)
    publisher: Literal["telegram", "manual"] = "telegram"

    @field_validator("chats")
    @classmethod
    def _groups(cls, value: list[int]) -> list[int]:
        for chat in value:
            if chat >= 0:
                raise ValueError(f"{chat} is not a group id (group ids are negative, e.g. -1001234567890)")
        return value

    def telegram_chats(self) -> list[int]:
        return list(self.chats)


class TelegramGroupKind(PushKind[TelegramGroupOptions]):
    """``kind: telegram_group``: messages arrive with the bot's own updates (bot/group.py)."""

    name = "telegram_group"
    options = TelegramGroupOptions

    def where(self, options: TelegramGroupOptions) -> str:
        return "groups " + ", ".join(map(str, options.chats))

    def to_mention(self, options: TelegramGroupOptions, message: Mapping[str, Any]) -> RawMention | None:
        return to_mention(message, language=options.language)
