"""Public addresses of things on the platforms Reclaim reads and answers on (pure): a Reddit
thing's permalink and a Telegram message's t.me link, for watchers and publishers alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REDDIT = "https://www.reddit.com"


def reddit_permalink(data: Mapping[str, Any]) -> str | None:
    """A thing's address on reddit.com (listings of comments from some years carry none)."""
    link = data.get("permalink")
    if isinstance(link, str) and link:
        return link if link.startswith("http") else REDDIT + link
    link_id, cid, sub = str(data.get("link_id") or ""), data.get("id"), data.get("subreddit")
    if link_id.startswith("t3_") and cid and sub:
        return f"{REDDIT}/r/{sub}/comments/{link_id[3:]}/_/{cid}/"
    url = data.get("url")
    return url if isinstance(url, str) and url.startswith("http") else None


def telegram_message_url(chat_id: int, message_id: int, username: str | None = None) -> str | None:
    """A t.me link: public groups by username, private supergroups by their -100… id; basic
    groups have none."""
    if username:
        return f"https://t.me/{username}/{message_id}"
    text = str(chat_id)
    return f"https://t.me/c/{text[4:]}/{message_id}" if text.startswith("-100") else None
