"""``kind: reddit``: new submissions and comments in some subreddits and a site-wide search,
read through the process's one Reddit client (watchers/reddit_api.py); the listing JSON is
turned into mentions by pure functions. Subreddits are read together (``r/a+b+c/new``), so a
poll costs the same for 1 or 50 of them. Where a source stopped is kept as a cursor: the newest
creation time and the last ids seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from core.model import RawMention
from core.platforms import reddit_permalink as permalink
from core.text import normalise_whitespace
from watchers.kinds import Batch, ReadKind
from watchers.options import Duration, SourceOptions

if TYPE_CHECKING:
    from watchers.reddit_api import RedditClient

PAGE = 100
GROUP = 50  # subreddits per multireddit request (URLs stay short)
SLACK = 1800.0  # seconds an item may show up in a listing after newer ones
SEEN = 300  # fullnames remembered per listing, against items that share a creation second
REDDIT_ENV = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USERNAME", "REDDIT_PASSWORD")
SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")

# -- pure: listing JSON → mentions --------------------------------------------------------


def _created(data: Mapping[str, Any]) -> float:
    try:
        return float(data.get("created_utc") or 0.0)
    except (TypeError, ValueError):
        return 0.0


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


def read_listing(
    client: RedditClient, path: str, params: Mapping[str, Any], cursor: Cursor | None, max_pages: int
) -> tuple[list[dict[str, Any]], Cursor]:
    """One listing, newest first, paging back until what was read before (one page the first
    time: a new source does not dig up the past)."""
    children: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(max_pages):
        query = {**params, "limit": PAGE, **({"after": after} if after else {})}
        data: Any = client.get(path, query)
        page = [c for c in (data or {}).get("data", {}).get("children", []) if isinstance(c, dict)]
        fresh = [c for c in page if cursor is None or not cursor.is_known(c.get("data") or {})]
        children.extend(fresh)
        after = (data or {}).get("data", {}).get("after")
        if cursor is None or len(fresh) < len(page) or not after:
            break
    return children, (cursor or Cursor()).advance(children)


class RedditOptions(SourceOptions):
    """New submissions and comments in some subreddits, and/or a site-wide search."""

    kind: Literal["reddit"]
    every: Duration = timedelta(minutes=2)
    subreddits: list[str] = []
    search: str | None = Field(default=None, min_length=1, max_length=512)
    submissions: bool = True
    comments: bool = True
    max_pages: int = Field(default=5, ge=1, le=10)  # pages of 100 read per listing when far behind
    ignore_authors: list[str] = ["AutoModerator"]
    publisher: Literal["reddit", "manual"] = "reddit"

    @field_validator("subreddits")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        out = []
        for raw in value:
            name = raw.strip().removeprefix("/").removeprefix("r/")
            if not SUBREDDIT.match(name):
                raise ValueError(f"{raw!r} is not a subreddit name (letters, digits and _, e.g. nordlys)")
            out.append(name)
        return out

    @model_validator(mode="after")
    def _something(self) -> RedditOptions:
        if not self.subreddits and not self.search:
            raise ValueError('a reddit source needs subreddits: [...] or search: "..." (or both)')
        if self.subreddits and not (self.submissions or self.comments):
            raise ValueError("submissions and comments are both off: nothing to watch in the subreddits")
        return self


class RedditKind(ReadKind[RedditOptions]):
    """``kind: reddit``, read through the process's shared Reddit client."""

    name = "reddit"
    options = RedditOptions
    client = "reddit"
    required_env = REDDIT_ENV

    def where(self, options: RedditOptions) -> str:
        parts = [f"r/{'+'.join(options.subreddits)}"] if options.subreddits else []
        return ", ".join(parts + ([f"search {options.search!r}"] if options.search else []))

    def read(self, options: RedditOptions, cursor: Mapping[str, Any], client: RedditClient) -> Batch:
        """Every listing of the source; the cursor moves only when all of them were read."""
        things: list[dict[str, Any]] = []
        moved: dict[str, object] = {}
        for key, path, params in listings(options.subreddits, options.search, options.submissions, options.comments):
            children, at = read_listing(client, path, params, Cursor.from_json(cursor.get(key)), options.max_pages)
            things += children
            moved[key] = at.to_json()
        items = to_mentions(things, own=client.username, ignore=options.ignore_authors, language=options.language)
        return Batch(items, moved)
