"""A toy source kind, written the way docs/CONTRIBUTING.md says a new kind is added: one module
with its options and its pure parser; the test registers it with one line."""

from __future__ import annotations

import json
from typing import Literal

from core.model import RawMention
from watchers import Fetched, FetchKind, HttpOptions, Parsed
from watchers.base import NO_DEADLINE, Deadline


class JsonLinesOptions(HttpOptions):
    kind: Literal["jsonlines"]
    text_field: str = "text"


class JsonLinesParser:
    """One JSON object a line: ``{"id": …, "<text_field>": …, "author": …}``."""

    def __init__(self, options: JsonLinesOptions) -> None:
        self.options = options

    def parse(self, fetched: Fetched, deadline: Deadline = NO_DEADLINE) -> Parsed:
        out = Parsed()
        for n, line in enumerate(fetched.body.decode("utf-8").splitlines(), 1):
            deadline.check()
            try:
                item = json.loads(line)
                out.items.append(
                    RawMention(
                        external_id=str(item["id"]),
                        text=str(item[self.options.text_field]),
                        author=item.get("author"),
                        language_hint=self.options.language,
                    )
                )
            except (ValueError, KeyError) as exc:
                out.warnings.append(f"line {n}: {exc!r}")
        return out


class JsonLinesKind(FetchKind[JsonLinesOptions]):
    name = "jsonlines"
    options = JsonLinesOptions

    def parser(self, options: JsonLinesOptions) -> JsonLinesParser:
        return JsonLinesParser(options)
