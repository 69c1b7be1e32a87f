"""Replies published by policy, pure: the team's working hours, and whether and when a complaint
nobody has touched gets its current draft published as if approved (``respond:`` in config).

The rules never publish a legal threat, a manager request, profanity or a critical complaint,
nor a complaint someone has taken; the delay restarts at every staff action, and outside working
hours the (usually shorter) ``outside_hours`` delay applies. services/policy.py applies them in a
transaction that locks the complaint, so a reply is queued once however many workers look.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NEVER_FLAGS = frozenset({"legal_threat", "manager_request", "profanity"})
NEVER_SEVERITY = "critical"
POLICY_ACTOR = "policy"  # who published it, in the event log
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _clock(hours: str, minutes: str) -> time | None:
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0:
        return None  # the end of the day
    if h > 23 or m > 59:
        raise ValueError(f"{hours}:{minutes} is not a time of day")
    return time(h, m)


def parse_spans(value: str) -> tuple[tuple[time, time | None], ...]:
    """'09:00-17:00' or '08:00-12:00, 13:00-17:00' (a span may end at 24:00); 'closed' is none."""
    if value.strip().lower() in ("", "closed", "off"):
        return ()
    spans = []
    for part in value.split(","):
        match = _SPAN.match(part)
        if match is None:
            raise ValueError(f"write hours like 09:00-17:00 or 08:00-12:00, 13:00-17:00 (got {value!r})")
        start = _clock(match.group(1), match.group(2))
        end = _clock(match.group(3), match.group(4))
        if start is None or (end is not None and end <= start):
            raise ValueError(f"{part.strip()!r}: a span ends after it starts, on the same day")
        spans.append((start, end))
    return tuple(spans)


def parse_days(key: str) -> tuple[int, ...]:
    """'mon', 'mon-fri' or 'sat-sun' → weekday numbers (Monday is 0)."""
    first, _, last = key.strip().lower().partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise ValueError(f"{key!r} is not a day or a range of days ({', '.join(DAYS)}, e.g. mon-fri)")
    a, b = DAYS.index(first), DAYS.index(last or first)
    if b < a:
        raise ValueError(f"{key!r}: write the days in week order (mon-fri, sat-sun)")
    return tuple(range(a, b + 1))


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """When the team is at work, per weekday, in ``zone``; no days at all: always."""

    zone: tzinfo
    days: Mapping[int, tuple[tuple[time, time | None], ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, zone: tzinfo, table: Mapping[str, str]) -> WorkingHours:
        days: dict[int, tuple[tuple[time, time | None], ...]] = dict.fromkeys(range(7), ()) if table else {}
        named: set[int] = set()
        for key, value in table.items():
            spans = parse_spans(value)
            for day in parse_days(key):
                if day in named:
                    raise ValueError(f"{DAYS[day]} is given twice ({key!r} and another entry): say each day once")
                named.add(day)
                days[day] = spans
        return cls(zone, days)

    def open_at(self, moment: datetime) -> bool:
        return self.opened_at(moment) is not None

    def opened_at(self, moment: datetime) -> datetime | None:
        """When the working span ``moment`` falls in began (None: outside working hours; with no
        hours at all, always at work since ever)."""
        if not self.days:
            return datetime.min.replace(tzinfo=moment.tzinfo)
        local = moment.astimezone(self.zone)
        now = local.time().replace(tzinfo=None)
        for start, end in self.days[local.weekday()]:
            if start <= now and (end is None or now < end):
                return local.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
        return None


@dataclass(frozen=True, slots=True)
class Policy:
    """``respond.auto_publish``: which complaints, and after how long without a staff action."""

    hours: WorkingHours
    after: timedelta
    outside_hours: timedelta
    sources: frozenset[str]  # source names (each with a reply API)
    severities: frozenset[str]
    languages: frozenset[str]
    max_age: timedelta = timedelta(days=1)  # older complaints wait for a person (a backlog, a stop)

    @property
    def shortest(self) -> timedelta:
        return min(self.after, self.outside_hours)

    def delay_at(self, moment: datetime) -> timedelta:
        """How long a complaint must wait untouched, judged at ``moment``."""
        return self.after if self.hours.open_at(moment) else self.outside_hours

    def waited(self, quiet_since: datetime, now: datetime) -> bool:
        """Whether a complaint untouched since then has waited long enough now. In working hours
        the team gets ``after`` of working time: a complaint that came in overnight is not
        published the moment the office opens (when ``outside_hours`` is the longer delay)."""
        opened = self.hours.opened_at(now)
        if opened is None:
            return now - quiet_since >= self.outside_hours
        return now - max(quiet_since, opened) >= self.after


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the rules need to know of a complaint."""

    kind: str  # complaint, or a question or praise someone opened from the lane
    open: bool  # its public reply is still a draft
    owner_id: int | None
    publisher: str
    source: str | None
    severity: str
    language: str
    flags: Iterable[str]
    has_draft: bool
    quiet_since: datetime  # detected, or the last staff action since
    posted_at: datetime | None = None  # when posted (else detected): max_age counts from then
    author_answered: bool = False  # the policy answered another complaint of theirs within max_age


def refusal(policy: Policy, c: Candidate) -> str | None:
    """Why the policy never publishes this complaint's reply, or None."""
    flagged = sorted(NEVER_FLAGS.intersection(c.flags))
    checks = (
        (c.kind != "complaint", "not_a_complaint"),
        (not c.open, "not_open"),
        (c.owner_id is not None, "taken"),
        (bool(flagged), flagged[0] if flagged else ""),
        (c.severity == NEVER_SEVERITY, "critical"),
        (c.publisher == "manual", "no_reply_api"),
        (c.source not in policy.sources, "source"),
        (c.severity not in policy.severities, "severity"),
        (c.language not in policy.languages, "language"),
        (not c.has_draft, "no_draft"),
        (c.author_answered, "author_answered"),  # one automatic reply per author: the rest is a person's
    )
    return next((reason for failed, reason in checks if failed), None)


def due(policy: Policy, c: Candidate, now: datetime) -> bool:
    """Whether the draft is published now: allowed, untouched for the delay that applies now, and
    posted no longer than ``max_age`` ago (switching the policy on, a new source's first read, or a
    stop over a weekend must not send a burst of replies to posts days old: those wait for a person)."""
    fresh = now - (c.posted_at or c.quiet_since) <= policy.max_age
    return fresh and refusal(policy, c) is None and policy.waited(c.quiet_since, now)
