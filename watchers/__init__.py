"""Watchers: fetch a public place (I/O) and parse what it says (pure) into RawMentions."""

from watchers.base import Fetched, FetchError, Parsed, Watcher
from watchers.html import HtmlWatcher
from watchers.rss import RssWatcher

REGISTRY: dict[str, type[Watcher]] = {"rss": RssWatcher, "html": HtmlWatcher}

__all__ = ["REGISTRY", "FetchError", "Fetched", "HtmlWatcher", "Parsed", "RssWatcher", "Watcher"]
