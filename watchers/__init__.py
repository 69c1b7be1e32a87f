"""Watchers: fetch a public place (I/O) and parse what it says (pure) into RawMentions; one
plugin class per source kind, named in REGISTRY (see watchers/kinds.py)."""

from watchers.base import Fetched, FetchError, Parsed, Watcher
from watchers.html import HtmlKind, HtmlWatcher
from watchers.kinds import Batch, FetchKind, Intake, PushKind, ReadKind, Registry, SourceKind
from watchers.options import HttpOptions, SourceOptions
from watchers.reddit import RedditKind
from watchers.rss import RssKind, RssWatcher
from watchers.telegram_group import TelegramGroupKind

REGISTRY = Registry([RssKind, HtmlKind, RedditKind, TelegramGroupKind])

__all__ = [
    "REGISTRY",
    "Batch",
    "FetchError",
    "FetchKind",
    "Fetched",
    "HtmlWatcher",
    "HttpOptions",
    "Intake",
    "Parsed",
    "PushKind",
    "ReadKind",
    "Registry",
    "RssWatcher",
    "SourceKind",
    "SourceOptions",
    "Watcher",
]
