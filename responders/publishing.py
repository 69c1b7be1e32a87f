"""Publishers that post a public reply where the complaint was made, by themselves.

Reddit: a comment under the submission or comment, through praw on the Reddit thread. Posting
is idempotent: a retry (after a crash, a timeout, a refusal to wait out) first looks through the
account's newest comments for this reply under this parent, and records that one if it is there.
Telegram groups are answered by the bot's own dispatcher (it holds the Bot API client).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from typing import Any, Protocol

import praw
import prawcore
from praw.exceptions import RedditAPIException

from core.durations import retry_after
from core.outbox import Amend, OutboxItem, Publish, PublishRefused, PublishRetry
from core.platforms import reddit_permalink
from core.text import normalise_whitespace

_BREAK = re.compile(r"(\d+)\s*(millisecond|second|minute|hour)", re.I)
REFUSALS = {
    "THREAD_LOCKED": "the thread is locked",
    "DELETED_COMMENT": "the post or comment was deleted",
    "DELETED_LINK": "the post was deleted",
    "TOO_OLD": "the thread is archived",
    "SUBREDDIT_NOTALLOWED": "the account may not post in this subreddit",
    "USER_BLOCKED": "the author has blocked the account",
    "SOMETHING_IS_BROKEN": "Reddit cannot take a reply there",
}


def break_for(message: str) -> timedelta | None:
    """The wait in Reddit's "take a break for 3 minutes before trying again"."""
    m = _BREAK.search(message or "")
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2).lower()
    seconds = {"millisecond": 0.001, "second": 1, "minute": 60, "hour": 3600}[unit] * n
    return timedelta(seconds=max(seconds, 1) + 1)


def same_text(a: str, b: str) -> bool:
    return normalise_whitespace(a) == normalise_whitespace(b)


class RedditAccount(Protocol):
    """The process's one Reddit client (watchers.reddit_api.RedditClient): praw behind a lock."""

    reddit: praw.Reddit

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    @property
    def username(self) -> str: ...


class RedditPublisher:
    def __init__(self, client: RedditAccount, thread: Executor) -> None:
        self.client, self.thread = client, thread

    async def __call__(self, item: OutboxItem) -> dict[str, Any]:
        p = item.payload
        if not isinstance(p, Publish):
            raise PublishRefused(f"not a reply to publish ({p.kind})")
        origin = p.origin or {}
        parent = str(p.reply_to or origin.get("thing") or "")
        if not re.fullmatch(r"t[13]_[a-z0-9]+", parent):
            raise PublishRefused(f"no Reddit thing to answer ({parent or 'none'})")
        text = p.text
        check = item.attempts > 1  # an earlier attempt may have got through
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.thread, self._publish, parent, text, check)

    def _publish(self, parent: str, text: str, check: bool) -> dict[str, Any]:
        with self.client.lock, _reddit_errors():
            reddit = self.client.reddit
            if check:
                found = self._find(reddit, parent, text)
                if found is not None:
                    return {**found, "found_on_retry": True}
            posted = reddit.post("api/comment/", data={"thing_id": parent, "text": text})
        comment = posted[0] if isinstance(posted, list) and posted else posted
        if not isinstance(comment, praw.models.Comment):
            raise PublishRetry("Reddit answered without the new comment; will check", timedelta(seconds=30))
        return self._where(vars(comment))

    def _find(self, reddit: praw.Reddit, parent: str, text: str) -> dict[str, Any] | None:
        """Our reply under ``parent`` with this text, among the account's newest 100 comments."""
        data = reddit.request(
            method="GET", path=f"user/{self.client.username}/comments", params={"limit": 100, "sort": "new"}
        )
        for child in (data or {}).get("data", {}).get("children", []):
            d = child.get("data") or {}
            if d.get("parent_id") == parent and same_text(str(d.get("body") or ""), text):
                return self._where(d)
        return None

    @staticmethod
    def _where(d: dict[str, Any]) -> dict[str, Any]:
        name = str(d.get("name") or f"t1_{d.get('id')}")
        return {"id": name, "url": reddit_permalink(d), "platform": "reddit"}

    async def amend(self, item: OutboxItem) -> dict[str, Any]:
        """Our comment edited in place (api/editusertext) or deleted (api/del); both can be sent
        again safely, so a retry after a crash does no harm."""
        a = item.payload
        if not isinstance(a, Amend) or not re.fullmatch(r"t1_[a-z0-9]+", a.reply_id):
            raise PublishRefused("no Reddit comment of ours to change")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.thread, self._amend, a.reply_id, a.text)

    def _amend(self, reply_id: str, text: str | None) -> dict[str, Any]:
        with self.client.lock, _reddit_errors():
            if text is None:
                self.client.reddit.post("api/del/", data={"id": reply_id})
                return {"deleted": True}
            self.client.reddit.post("api/editusertext/", data={"thing_id": reply_id, "text": text})
            return {"edited": True}


@contextmanager
def _reddit_errors() -> Iterator[None]:
    """Reddit's and praw's errors as the outbox understands them: retry later, or refused."""
    try:
        yield
    except RedditAPIException as exc:
        raise _api_error(exc) from exc
    except prawcore.exceptions.TooManyRequests as exc:
        after = retry_after(exc.response.headers.get("retry-after"))
        wait = timedelta(seconds=(60.0 if after is None else after) + 1)
        raise PublishRetry("Reddit: too many requests", wait) from exc
    except prawcore.exceptions.Forbidden as exc:
        raise PublishRefused("Reddit: forbidden (403): is the account banned from this subreddit?") from exc
    except (prawcore.exceptions.NotFound, prawcore.exceptions.Redirect) as exc:
        raise PublishRefused("Reddit: the thread was not found") from exc
    except prawcore.exceptions.OAuthException as exc:
        raise PublishRetry(f"Reddit refused the credentials: {exc}", timedelta(minutes=15)) from exc
    except prawcore.exceptions.PrawcoreException as exc:  # 5xx, timeouts: it may have got through
        raise PublishRetry(f"Reddit: {exc!r}; will check before posting again", timedelta(seconds=30)) from exc


def _api_error(exc: RedditAPIException) -> Exception:
    for item in exc.items:
        if item.error_type == "RATELIMIT":
            wait = break_for(item.message or "") or timedelta(minutes=10)
            return PublishRetry(f"Reddit: doing that too much ({item.message})", wait)
        if item.error_type in REFUSALS:
            return PublishRefused(f"Reddit: {REFUSALS[item.error_type]} ({item.error_type})")
    return PublishRefused(f"Reddit refused the reply: {exc}")
