"""The journal's reads, as plain dicts ready for JSON or a table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.tables import Complaint, Draft, Event, Mention, SourceState


def current_draft(session: Session, complaint_id: int, purpose: str = "reply") -> Draft | None:
    """The newest draft of the public reply (or of the follow-up, ``purpose="follow_up"``)."""
    return session.scalars(
        select(Draft)
        .where(Draft.complaint_id == complaint_id, Draft.purpose == purpose)
        .order_by(Draft.id.desc())
        .limit(1)
    ).first()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _triage(m: Mention) -> dict[str, Any]:
    return m.triage if isinstance(m.triage, dict) else {}


def _probability(value: Any) -> float | None:
    """A stored probability, if it is one (JSON has no NaN: a listing must stay JSON)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
    return float(value) if ok else None


def mention_dict(m: Mention, complaint_id: int | None) -> dict[str, Any]:
    return {
        "id": m.id,
        "source": m.source,
        "external_id": m.external_id,
        "url": m.url,
        "author": m.author,
        "title": m.title,
        "text": m.text,
        "published_at": _iso(m.published_at),
        "fetched_at": _iso(m.fetched_at),
        "rating": m.rating,
        "language": m.language,
        "kind": m.kind,
        "flags": list(m.flags),
        "severity": m.severity,
        "category": m.category,
        "complaint_id": complaint_id,
        "lane": m.lane,
        "lane_by": m.lane_by,
        "unsure": bool(_triage(m).get("unsure")),
        "decided_by": str(_triage(m).get("decided_by", "rules")),
        "p_complaint": _probability(_triage(m).get("p_complaint")),
    }


def list_mentions(
    session: Session,
    *,
    kind: str | None = None,
    source: str | None = None,
    limit: int | None = None,
    lane: bool = False,
    language: str | None = None,
    unsure: bool = False,
    search: str | None = None,
) -> list[dict[str, Any]]:
    """Mentions, newest first; ``lane``: only those waiting in the mentions lane; ``search``:
    the text, title or author contains it (any case)."""
    stmt = select(Mention, Complaint.id).outerjoin(Complaint, Complaint.mention_id == Mention.id)
    if kind:
        stmt = stmt.where(Mention.kind == kind)
    if source:
        stmt = stmt.where(Mention.source == source)
    if lane:
        stmt = stmt.where(Mention.lane == "open")
    if language:
        stmt = stmt.where(Mention.language == language)
    if unsure:
        stmt = stmt.where(Mention.triage["unsure"].as_boolean().is_(True))
    if search:
        term = search.strip().lower()[:200]
        stmt = stmt.where(
            func.lower(Mention.text).contains(term, autoescape=True)
            | func.lower(Mention.title).contains(term, autoescape=True)
            | func.lower(Mention.author).contains(term, autoescape=True)
        )
    stmt = stmt.order_by(Mention.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    return [mention_dict(m, cid) for m, cid in session.execute(stmt)]


def _current_drafts(session: Session, ids: list[int]) -> dict[int, Draft]:
    if not ids:
        return {}
    newest = (
        select(func.max(Draft.id))
        .where(Draft.complaint_id.in_(ids), Draft.purpose == "reply")
        .group_by(Draft.complaint_id)
        .scalar_subquery()
    )
    return {d.complaint_id: d for d in session.scalars(select(Draft).where(Draft.id.in_(newest)))}


def complaint_dict(c: Complaint, draft: Draft | None, link_base: str | None) -> dict[str, Any]:
    return {
        "id": c.id,
        "status": c.status,
        "language": c.language,
        "severity": c.severity,
        "category": c.category,
        "flags": list(c.flags),
        "mention_id": c.mention_id,
        "created_at": _iso(c.created_at),
        "first_response_due": _iso(c.first_response_due),
        "first_response_at": _iso(c.first_response_at),
        "private_link": f"{link_base}{c.token}" if link_base else None,
        "draft": {"text": draft.text, "status": draft.status} if draft else None,
    }


def list_complaints(
    session: Session, *, link_base: str | None, status: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    stmt = select(Complaint).order_by(Complaint.id.desc())
    if status:
        stmt = stmt.where(Complaint.status == status)
    if limit:
        stmt = stmt.limit(limit)
    complaints = list(session.scalars(stmt))
    drafts = _current_drafts(session, [c.id for c in complaints])
    return [complaint_dict(c, drafts.get(c.id), link_base) for c in complaints]


def complaint_detail(session: Session, complaint_id: int, *, link_base: str | None) -> dict[str, Any] | None:
    c = session.get(Complaint, complaint_id)
    if c is None:
        return None
    out = complaint_dict(c, _current_drafts(session, [c.id]).get(c.id), link_base)
    mention = session.get(Mention, c.mention_id) if c.mention_id else None
    out["mention"] = mention_dict(mention, c.id) if mention else None
    events = session.scalars(select(Event).where(Event.complaint_id == c.id).order_by(Event.id))
    out["events"] = [{"at": _iso(e.at), "kind": e.kind, "actor": e.actor, "data": e.data} for e in events]
    return out


def source_health(session: Session, configured: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Each source's health; ``configured`` sources never polled yet are listed too, empty."""
    rows = [
        {
            "name": s.name,
            "last_polled_at": _iso(s.last_polled_at),
            "last_success_at": _iso(s.last_success_at),
            "last_status": s.last_status,
            "last_error": s.last_error,
            "last_error_at": _iso(s.last_error_at),
            "last_warning": s.last_warning,
            "consecutive_failures": s.consecutive_failures,
            "next_attempt_at": _iso(s.next_attempt_at),
            "items_seen": s.items_seen,
            "mentions_added": s.mentions_added,
        }
        for s in session.scalars(select(SourceState).order_by(SourceState.name))
    ]
    polled = {r["name"] for r in rows}
    empty = {"last_polled_at": None, "last_success_at": None, "last_status": None, "last_error": None,
             "last_error_at": None, "last_warning": None, "consecutive_failures": 0, "next_attempt_at": None,
             "items_seen": 0, "mentions_added": 0}  # fmt: skip
    return rows + [{"name": name, **empty} for name in configured if name not in polled]
