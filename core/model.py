"""Domain values shared by every room: what a source yields and what triage decides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.text import strip_controls


class Kind(StrEnum):
    COMPLAINT = "complaint"
    PRAISE = "praise"
    QUESTION = "question"
    OTHER = "other"


class Flag(StrEnum):
    LEGAL_THREAT = "legal_threat"
    MANAGER_REQUEST = "manager_request"
    PROFANITY = "profanity"


class Severity(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class DraftStatus(StrEnum):
    PROPOSED = "proposed"
    EDITED = "edited"


class Step(StrEnum):
    """Where a complaint's private conversation stands (responders/conversation.py moves it)."""

    CONTACT = "contact"
    CLARIFY = "clarify"
    SUMMARY = "summary"
    SOLUTION = "solution"  # waiting for the owner's options
    CHOOSING = "choosing"  # the customer chooses
    PROMISE = "promise"  # a time was promised; waiting for the resolution
    SATISFACTION = "satisfaction"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class RawMention:
    """One item as a watcher read it from a source, before triage.

    ``text`` is plain text (HTML stripped, entities decoded, whitespace normalised).
    ``rating`` is normalised to the 1-5 scale when the source gives one.
    """

    external_id: str
    text: str
    url: str | None = None
    author: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    rating: float | None = None
    language_hint: str | None = None
    origin: Mapping[str, Any] | None = None  # where to answer in place, e.g. {"chat_id": .., "message_id": ..}

    def __post_init__(self) -> None:
        # What a source wrote is never a terminal's or a database's control code.
        for name in ("external_id", "text", "author", "title"):
            value = getattr(self, name)
            if value and not value.isprintable() and value != strip_controls(value):
                object.__setattr__(self, name, strip_controls(value))
        # The one check of a source's link: only http(s) may ever become a link (dashboard,
        # cards, exports). Anything else (javascript:, data: …) is kept as text in origin.
        if self.url is not None and safe_url(self.url) is None:
            object.__setattr__(self, "origin", {**(self.origin or {}), "link_text": self.url[:2000]})
            object.__setattr__(self, "url", None)


def safe_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) address a browser may open, else None."""
    if not url:
        return None
    value = url.strip()
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest:
        return None
    if any(ch in value for ch in '<>"') or any(ord(ch) < 32 for ch in value):
        return None
    return value


@dataclass(frozen=True, slots=True)
class Triage:
    """What triage decided about a text, with the evidence that decided it."""

    language: str
    kind: Kind
    flags: tuple[Flag, ...]
    severity: Severity
    category: str
    scores: dict[str, float] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()
    decided_by: str = "rules"  # "rules", or "learned:N" when model N of the journal decided
    p_complaint: float | None = None  # the learned model's probability that this is a complaint
    unsure: bool = False  # the team should look: close to the line, or the two models disagree
    rules_kind: Kind | None = None  # what the word lists said, when a learned model decided otherwise

    def record(self) -> dict[str, object]:
        """The evidence kept with a mention: scores, the words that decided, which model decided."""
        out: dict[str, object] = {"scores": self.scores, "evidence": list(self.evidence)}
        out |= {"decided_by": self.decided_by, "unsure": self.unsure}
        if self.p_complaint is not None:
            out["p_complaint"] = round(self.p_complaint, 4)
        if self.rules_kind is not None:
            out["rules_kind"] = self.rules_kind.value
        return out

    def as_dict(self) -> dict[str, object]:
        return self.record() | {
            "language": self.language,
            "kind": self.kind.value,
            "flags": [f.value for f in self.flags],
            "severity": self.severity.value,
            "category": self.category,
        }
