"""Keeping secrets out of everything the process prints: every log line, exception message and
traceback goes through one formatter that replaces known secret values with ***."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import quote

# variables whose values are secrets wherever they appear
SECRET_ENV = (
    "TELEGRAM_BOT_TOKEN",
    "REDDIT_CLIENT_ID",
    "REDDIT_CLIENT_SECRET",
    "REDDIT_PASSWORD",
    "RECLAIM_WEB_SECRET",
    "RECLAIM_NEW_PASSWORD",
    "RECLAIM_DATABASE_URL",
    "DB_PASSWORD",
)
MIN_LENGTH = 4  # shorter values would blank out ordinary words (a secret this short is no secret)


class Redactor:
    """The process's known secret values and how to hide them in a text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._ordered: list[str] = []

    def add(self, values: Iterable[str | None]) -> None:
        for value in values:
            if value and len(value) >= MIN_LENGTH:
                self._values.update({value, quote(value, safe=""), quote(value, safe=":")})
        self._ordered = sorted(self._values, key=len, reverse=True)  # a longer secret before its parts

    def add_environment(self) -> None:
        self.add(os.environ.get(name) for name in SECRET_ENV)

    def __call__(self, text: str) -> str:
        for value in self._ordered:
            if value in text:
                text = text.replace(value, "***")
        return text


REDACT = Redactor()


def install_excepthooks() -> None:
    """Uncaught errors, in the main thread or any other, are logged (so redacted), not printed raw."""
    log = logging.getLogger("reclaim")

    def main_hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.critical("uncaught error", exc_info=(kind, value, tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            name = args.thread.name if args.thread else "?"
            log.error("uncaught error in thread %s", name, exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook = main_hook
    threading.excepthook = thread_hook


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output, traceback included, has every known secret replaced."""

    def __init__(self, fmt: str | None = None, redact: Redactor | None = None) -> None:
        super().__init__(fmt)
        self.redact = redact or REDACT

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(RedactingFormatter):
    """`logging.format: json`: one JSON object per line (time, level, logger, message, and the
    traceback as one string), for a log collector; secrets are replaced as in the text format."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        if record.exc_info:
            line["traceback"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)
