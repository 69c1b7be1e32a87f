"""RSS 0.9x/1.0/2.0 and Atom feeds, read by feedparser from bytes we fetched ourselves."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urljoin

import feedparser

from core.model import RawMention
from watchers.base import NO_DEADLINE, Deadline, Fetched, Parsed, Watcher, clamp_id, stable_id
from watchers.kinds import FetchKind
from watchers.options import HttpOptions
from watchers.text import html_to_text


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _body(entry: Any) -> str:
    for content in entry.get("content") or []:
        value = content.get("value")
        if value:
            return str(value)
    return str(entry.get("summary") or entry.get("description") or "")


class RssWatcher:
    """Parses a feed document into mentions; a malformed feed yields what could be read."""

    def __init__(self, *, language: str | None = None) -> None:
        self.language = language

    def parse(self, fetched: Fetched, deadline: Deadline = NO_DEADLINE) -> Parsed:
        # No content-location: feedparser would resolve relative <guid>s against it in its loose
        # (malformed-feed) mode only, so ids would change when a feed flips between the two.
        headers: dict[str, str] = {}
        if fetched.content_type:
            headers["content-type"] = fetched.content_type
        doc = feedparser.parse(fetched.body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
        out = Parsed()
        if doc.get("bozo"):
            exc = doc.get("bozo_exception")
            out.warnings.append(f"malformed feed ({type(exc).__name__}: {exc}); read {len(doc.entries)} item(s) anyway")
        feed_lang = (doc.feed.get("language") or "").split("-")[0].lower() or None
        deadline.check()
        for entry in doc.entries:
            deadline.check()
            item = self._mention(entry, fetched.url, self.language or feed_lang)
            if item is not None:
                out.items.append(item)
        if not doc.entries and not doc.get("version") and fetched.body.strip():
            out.warnings.append("no feed found in the document (is the address a feed?)")
        return out

    @staticmethod
    def _mention(entry: Any, base: str, language: str | None) -> RawMention | None:
        title = html_to_text(entry.get("title")) or None
        text = html_to_text(_body(entry)) or (title or "")
        link = entry.get("link")
        link = urljoin(base, str(link)) if link else None
        author = entry.get("author") or (entry.get("author_detail") or {}).get("name")
        published = _when(entry)
        ident = entry.get("id") or entry.get("guid") or link
        if not text and not link and not ident:
            return None
        external = clamp_id(str(ident)) if ident else stable_id(title, text, str(published))
        return RawMention(
            external_id=external,
            text=text,
            url=link,
            author=html_to_text(str(author)) if author else None,
            title=title,
            published_at=published,
            language_hint=language,
        )


class RssOptions(HttpOptions):
    kind: Literal["rss"]
    publisher: Literal["manual"] = "manual"


class RssKind(FetchKind[RssOptions]):
    """``kind: rss``: an RSS or Atom feed at ``url``."""

    name = "rss"
    options = RssOptions

    def parser(self, options: RssOptions) -> Watcher:
        return RssWatcher(language=options.language)
