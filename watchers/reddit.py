"""Reddit: new submissions and comments in some subreddits and a site-wide search, read with
praw; the listing JSON is turned into mentions by pure functions.

One :class:`RedditClient` serves every reddit source and the publisher, so one OAuth client
keeps to one request budget: praw paces by Reddit's ``x-ratelimit-*`` headers, and a sliding
window over every HTTP request (token requests included) keeps to ``requests_per_minute``.
Subreddits are read together (``r/a+b+c/new``), so a poll costs the same for 1 or 50 of them.
Where a source stopped is kept as a cursor: the newest creation time and the last ids seen.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import praw
import prawcore
import requests
from praw.exceptions import RedditAPIException

from core.model import RawMention
from core.text import normalise_whitespace

SITE = "https://www.reddit.com"
PAGE = 100
GROUP = 50  # subreddits per multireddit request (URLs stay short)
MARGIN = 0.5  # seconds added to the budget's window: a request counts where it arrives, a little later
SLACK = 1800.0  # seconds an item may show up in a listing after newer ones
SEEN = 300  # fullnames remembered per listing, against items that share a creation second


class RedditError(Exception):
    """A Reddit request failed; ``retry_after`` in seconds when Reddit said when to try again."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.retryable, self.status, self.retry_after = retryable, status, retry_after


# -- pure: listing JSON → mentions --------------------------------------------------------


def _created(data: Mapping[str, Any]) -> float:
    try:
        return float(data.get("created_utc") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def permalink(data: Mapping[str, Any]) -> str | None:
    """The thing's address on reddit.com (listings of comments from some years carry none)."""
    link = data.get("permalink")
    if isinstance(link, str) and link:
        return link if link.startswith("http") else SITE + link
    link_id, cid, sub = str(data.get("link_id") or ""), data.get("id"), data.get("subreddit")
    if link_id.startswith("t3_") and cid and sub:
        return f"{SITE}/r/{sub}/comments/{link_id[3:]}/_/{cid}/"
    url = data.get("url")
    return url if isinstance(url, str) and url.startswith("http") else None


def to_mention(thing: Mapping[str, Any], language: str | None = None) -> RawMention | None:
    """One listing child (``{"kind": "t3"|"t1", "data": {...}}``) as a mention, or None when it
    is not a submission or comment, or has been deleted or removed."""
    kind, data = thing.get("kind"), thing.get("data")
    if kind not in ("t1", "t3") or not isinstance(data, Mapping) or not data.get("id"):
        return None
    fullname = str(data.get("name") or f"{kind}_{data['id']}")
    author = data.get("author")
    if kind == "t3":
        title = normalise_whitespace(str(data.get("title") or ""))
        text = normalise_whitespace(str(data.get("selftext") or ""))
    else:
        link_title = normalise_whitespace(str(data.get("link_title") or ""))
        title = f"Re: {link_title}" if link_title else ""
        text = normalise_whitespace(str(data.get("body") or ""))
    if text in ("[deleted]", "[removed]") or (not text and not title):
        return None
    created = _created(data)
    origin = {
        "platform": "reddit",
        "thing": fullname,
        "subreddit": data.get("subreddit"),
        "score": data.get("score"),
        "link_id": data.get("link_id") if kind == "t1" else fullname,
        "locked": bool(data.get("locked")),
        "archived": bool(data.get("archived")),
    }
    return RawMention(
        external_id=fullname,
        text=text,
        url=permalink(data),
        author=str(author) if author and author != "[deleted]" else None,
        title=title or None,
        published_at=datetime.fromtimestamp(created, UTC) if created else None,
        language_hint=language,
        origin=origin,
    )


def to_mentions(
    things: Iterable[Mapping[str, Any]], *, own: str | None, ignore: Iterable[str] = (), language: str | None = None
) -> list[RawMention]:
    """Mentions from listing children, oldest first, without our own account's posts (the bot's
    replies are never read back as complaints) nor those of ``ignore``d authors."""
    skip = {a.lower() for a in ignore} | ({own.lower()} if own else set())
    out: dict[str, tuple[float, RawMention]] = {}
    for thing in things:
        data = thing.get("data") if isinstance(thing, Mapping) else None
        if isinstance(data, Mapping) and str(data.get("author") or "").lower() in skip:
            continue
        m = to_mention(thing, language)
        if m is not None:
            out[m.external_id] = (_created(data or {}), m)
    return [m for _, m in sorted(out.values(), key=lambda pair: pair[0])]


# -- cursors ------------------------------------------------------------------------------


@dataclass
class Cursor:
    """Where one listing of a source stopped."""

    newest: float = 0.0
    seen: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Any) -> Cursor | None:
        if not isinstance(data, Mapping):
            return None
        seen = data.get("seen")
        return cls(float(data.get("newest") or 0.0), [str(s) for s in seen] if isinstance(seen, list) else [])

    def to_json(self) -> dict[str, Any]:
        return {"newest": self.newest, "seen": self.seen[-SEEN:]}

    def is_known(self, data: Mapping[str, Any]) -> bool:
        """Read before: remembered, or older than the newest by more than ``SLACK`` (listings and
        search can show an item late; the journal's unique key stops it being added twice)."""
        return str(data.get("name")) in self.seen or _created(data) < self.newest - SLACK

    def advance(self, children: Sequence[Mapping[str, Any]]) -> Cursor:
        datas = [c.get("data") or {} for c in children]
        newest = max([self.newest, *(_created(d) for d in datas)])
        fresh = [str(d.get("name")) for d in sorted(datas, key=_created) if d.get("name")]
        seen = [s for s in self.seen if s not in set(fresh)] + fresh
        return Cursor(newest, seen[-SEEN:])


def listings(
    subreddits: Sequence[str], search: str | None, submissions: bool, comments: bool
) -> list[tuple[str, str, dict[str, Any]]]:
    """(cursor key, API path, parameters) of every listing a source reads."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    for start in range(0, len(subreddits), GROUP):
        group = subreddits[start : start + GROUP]
        multi = "+".join(group)
        key = "" if len(subreddits) <= GROUP else f"{start // GROUP}:"
        if submissions:
            out.append((f"{key}new", f"r/{multi}/new", {}))
        if comments:
            out.append((f"{key}comments", f"r/{multi}/comments", {}))
    if search:
        out.append(("search", "r/all/search", {"q": search, "sort": "new", "restrict_sr": "off", "t": "week"}))
    return out


# -- I/O: the shared client --------------------------------------------------------------


class BudgetSession(requests.Session):
    """A requests session that lets at most ``per_minute`` requests out in any ``window`` (60 s), and
    counts them (every praw request, the OAuth token's included, goes through it)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, window: float = 60.0) -> None:
        super().__init__()
        self.per_minute, self.clock, self.window = per_minute, clock, window
        self.sent: deque[float] = deque()
        self.total = 0
        self._lock = threading.Lock()

    def wait_turn(self) -> None:
        while True:
            with self._lock:
                now = self.clock()
                while self.sent and now - self.sent[0] >= self.window + MARGIN:
                    self.sent.popleft()
                if len(self.sent) < self.per_minute:
                    self.sent.append(now)
                    self.total += 1
                    return
                pause = self.window + MARGIN - (now - self.sent[0])
            time.sleep(max(pause, 0.01))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.wait_turn()
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class RedditAccess:
    client_id: str
    client_secret: str
    username: str
    password: str
    user_agent: str
    oauth_url: str = "https://oauth.reddit.com"
    reddit_url: str = "https://www.reddit.com"
    timeout: float = 20.0
    requests_per_minute: int = 90


def _error(exc: Exception) -> RedditError:
    """praw's and prawcore's exceptions as one retryable-or-not error with a readable message."""
    if isinstance(exc, prawcore.exceptions.TooManyRequests):
        after = exc.response.headers.get("retry-after") or exc.response.headers.get("x-ratelimit-reset")
        return RedditError("Reddit: too many requests (429)", retryable=True, status=429, retry_after=_seconds(after))
    if isinstance(exc, prawcore.exceptions.Redirect):
        return RedditError(f"Reddit: no such subreddit or page ({exc})", retryable=False, status=302)
    if isinstance(exc, prawcore.exceptions.NotFound):
        return RedditError("Reddit: not found (404): a banned or misspelt subreddit?", retryable=False, status=404)
    if isinstance(exc, prawcore.exceptions.Forbidden):
        return RedditError("Reddit: forbidden (403): a private or quarantined subreddit?", retryable=False, status=403)
    if isinstance(exc, prawcore.exceptions.OAuthException):
        return RedditError(f"Reddit refused the credentials: {exc}", retryable=False, status=401)
    if isinstance(exc, prawcore.exceptions.ResponseException):
        code = exc.response.status_code
        return RedditError(f"Reddit answered HTTP {code}", retryable=code >= 500 or code == 429, status=code)
    if isinstance(exc, prawcore.exceptions.RequestException):
        return RedditError(f"Reddit could not be reached: {exc.original_exception!r}", retryable=True)
    if isinstance(exc, RedditAPIException):
        return RedditError(f"Reddit: {exc}", retryable=False)
    return RedditError(f"Reddit: {exc!r}", retryable=False)


def _get(reddit: praw.Reddit, *, path: str, params: dict[str, Any]) -> Any:
    return reddit.request(method="GET", path=path, params=params)


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


class RedditClient:
    """praw and its budget. praw is synchronous and not for many threads at once: every call
    goes through :meth:`run` on one lock, normally from the one thread the caller gives it."""

    def __init__(self, access: RedditAccess) -> None:
        self.access = access
        self.session = BudgetSession(access.requests_per_minute)
        self.reddit = praw.Reddit(
            client_id=access.client_id,
            client_secret=access.client_secret,
            username=access.username,
            password=access.password,
            user_agent=access.user_agent,
            oauth_url=access.oauth_url.rstrip("/"),
            reddit_url=access.reddit_url.rstrip("/"),
            timeout=int(max(access.timeout, 1)),
            check_for_updates=False,
            ratelimit_seconds=0,  # a "doing that too much" is for the outbox to wait out, not a thread
            requestor_kwargs={"session": self.session},
        )
        self.lock = threading.Lock()

    @property
    def username(self) -> str:
        return self.access.username

    @property
    def requests(self) -> int:
        return self.session.total

    def run(self, fn: Callable[[praw.Reddit], Any]) -> Any:
        with self.lock:
            try:
                return fn(self.reddit)
            except (prawcore.exceptions.PrawcoreException, RedditAPIException, praw.exceptions.PRAWException) as exc:
                raise _error(exc) from exc

    def read(
        self, path: str, params: Mapping[str, Any], cursor: Cursor | None, max_pages: int
    ) -> tuple[list[dict[str, Any]], Cursor]:
        """One listing, newest first, paging back until what was read before (one page the
        first time: a new source does not dig up the past)."""
        children: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(max_pages):
            query = {**params, "limit": PAGE, **({"after": after} if after else {})}
            data: Any = self.run(functools.partial(_get, path=path, params=query))
            page = [c for c in (data or {}).get("data", {}).get("children", []) if isinstance(c, dict)]
            fresh = [c for c in page if cursor is None or not cursor.is_known(c.get("data") or {})]
            children.extend(fresh)
            after = (data or {}).get("data", {}).get("after")
            if cursor is None or len(fresh) < len(page) or not after:
                break
        return children, (cursor or Cursor()).advance(children)

    def close(self) -> None:
        self.session.close()
