"""Ingest planning, pure: which new items become mentions, what triage says, which open complaints.

The storage layer writes a plan in one transaction; nothing here touches a database.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.brand import BrandMatcher
from core.lifecycle import Event as E
from core.lifecycle import Status, status_after
from core.model import Kind, RawMention, Triage

TOKEN_BYTES = 24  # 192 bits → 32 URL-safe characters, within Telegram's 64-character start limit


def new_token() -> str:
    """An unguessable, URL-safe private-chat token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass(frozen=True, slots=True)
class ComplaintPlan:
    token: str
    status: Status
    first_response_due: datetime
    draft_text: str


@dataclass(frozen=True, slots=True)
class MentionPlan:
    raw: RawMention
    triage: Triage
    complaint: ComplaintPlan | None = None
    lane: bool = False  # shown to the team in the mentions lane


LANE_KINDS = ("question", "praise", "uncertain", "other")


def in_lane(triage: Triage, show: frozenset[str]) -> bool:
    """Whether the team should see a mention that is not a complaint: its kind is among
    ``show`` (inbox.show), or triage is unsure and "uncertain" is."""
    if triage.kind is Kind.COMPLAINT:
        return False
    return triage.kind.value in show or ("uncertain" in show and triage.unsure)


@dataclass(slots=True)
class IngestPlan:
    source: str
    fetched_at: datetime
    publisher: str = "manual"
    mentions: list[MentionPlan] = field(default_factory=list)
    skipped_known: int = 0
    skipped_off_brand: int = 0


@dataclass(frozen=True, slots=True)
class CasePlan:
    """A case opened by hand from a mention already in the journal: a complaint triage missed
    (It's a complaint), or a question answered or praise thanked in public. Its clock counts from
    when the mention was seen, not from the press."""

    mention_id: int
    kind: Kind
    triage: Triage
    complaint: ComplaintPlan
    publisher: str
    source: str
    detected_at: datetime
    actor: str


def plan_case(
    mention_id: int, kind: Kind, triage: Triage, *, draft_text: str, token: str, publisher: str, source: str,
    detected_at: datetime, first_response: timedelta, actor: str,
) -> CasePlan:  # fmt: skip
    """Open a case as staff asked: the status a detected complaint starts in, the first-response
    time counted from detection."""
    plan = ComplaintPlan(token, status_after(None, E.DETECTED), detected_at + first_response, draft_text)
    return CasePlan(mention_id, kind, triage, plan, publisher, source, detected_at, actor)


Classify = Callable[[RawMention], Triage]
Draft = Callable[[Triage, RawMention, str], str]


def plan_ingest(
    source: str,
    items: Iterable[RawMention],
    *,
    known: set[str],
    classify: Classify,
    draft: Draft,
    now: datetime,
    first_response: timedelta,
    brand: BrandMatcher | None = None,
    show: frozenset[str] = frozenset(),
) -> IngestPlan:
    """Plan the new mentions of one poll. ``known`` holds external ids already in the journal;
    ``brand`` (when given) keeps only items that name the brand."""
    plan = IngestPlan(source=source, fetched_at=now)
    seen: set[str] = set()
    for raw in items:
        if raw.external_id in known or raw.external_id in seen:
            plan.skipped_known += 1
            continue
        seen.add(raw.external_id)
        if brand is not None and not brand.matches(raw.title, raw.text):
            plan.skipped_off_brand += 1
            continue
        triage = classify(raw)
        complaint = None
        if triage.kind is Kind.COMPLAINT:
            token = new_token()
            complaint = ComplaintPlan(
                token=token,
                status=status_after(None, E.DETECTED),
                first_response_due=now + first_response,
                draft_text=draft(triage, raw, token),
            )
        plan.mentions.append(MentionPlan(raw, triage, complaint, complaint is None and in_lane(triage, show)))
    return plan


def opened_events(plan: MentionPlan) -> list[tuple[str, dict[str, Any]]]:
    """The first steps of a new complaint's event log, in order."""
    t = plan.triage
    return [
        ("mention_detected", {"external_id": plan.raw.external_id, "url": plan.raw.url}),
        (
            "complaint_opened",
            {
                "language": t.language,
                "severity": t.severity.value,
                "category": t.category,
                "flags": [f.value for f in t.flags],
            },
        ),
        ("draft_proposed", {"author": "reclaim"}),
    ]
