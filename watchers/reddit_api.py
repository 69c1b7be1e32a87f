"""The one Reddit client of a process: praw behind one request budget, shared by every reddit
source and the publisher, so one OAuth client keeps to one limit. praw paces by Reddit's
``x-ratelimit-*`` headers, and a sliding window over every HTTP request (token requests
included) keeps to ``requests_per_minute``. praw's errors become one retryable-or-not error."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import praw
import prawcore
import requests
from praw.exceptions import RedditAPIException

from core.durations import retry_after
from watchers.base import FetchError

MARGIN = 0.5  # seconds added to the budget's window: a request counts where it arrives, a little later


class RedditError(FetchError):
    """A Reddit request failed; ``retry_after`` in seconds when Reddit said when to try again."""


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
        return RedditError(
            "Reddit: too many requests (429)", retryable=True, status=429, retry_after=retry_after(after)
        )
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

    def get(self, path: str, params: Mapping[str, Any]) -> Any:
        """One GET of the API (a listing's JSON)."""
        return self.run(lambda reddit: reddit.request(method="GET", path=path, params=dict(params)))

    def close(self) -> None:
        self.session.close()
