"""The dashboard's reads: the inbox with filters (indexed, one page at a time) and a complaint with
its original, drafts, timeline, private conversation and promises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core import lifecycle
from core.lifecycle import Status
from core.outbox import Relay, Say, from_json
from storage.queries import current_draft
from storage.tables import Complaint, ConversationRow, Event, Mention, Outbox, Promise, SourceState

OPEN = tuple(s.value for s in Status if s not in lifecycle.FINISHED)
STATUSES = tuple(s.value for s in Status)
PAGE = 50


@dataclass(frozen=True)
class Filters:
    status: str | None = None  # one status; None: every open one
    source: str | None = None
    language: str | None = None
    owner: str | None = None  # an owner's name; "-" for nobody
    overdue: bool = False
    page: int = 1


def inbox(session: Session, f: Filters, now: datetime) -> tuple[list[dict[str, Any]], int]:
    """One page of complaints, newest first, and how many match."""
    query = select(
        Complaint.id,
        Complaint.status,
        Complaint.language,
        Complaint.severity,
        Complaint.category,
        Complaint.created_at,
        Complaint.first_response_due,
        Complaint.first_response_at,
        Complaint.owner_name,
        Complaint.source,
        Mention.author,
        Mention.title,
        func.substr(Mention.text, 1, 160).label("excerpt"),
    ).join(Mention, Mention.id == Complaint.mention_id, isouter=True)
    conditions: list[ColumnElement[bool]] = [Complaint.status == f.status if f.status else Complaint.status.in_(OPEN)]
    if f.source:
        conditions.append(Complaint.source == f.source)
    if f.language:
        conditions.append(Complaint.language == f.language)
    if f.owner == "-":
        conditions.append(Complaint.owner_id.is_(None))
    elif f.owner:
        conditions.append(Complaint.owner_name == f.owner)
    if f.overdue:
        conditions += [Complaint.first_response_at.is_(None), Complaint.first_response_due < now]
    query = query.where(*conditions)
    total = session.scalar(select(func.count()).select_from(Complaint).where(*conditions))
    rows = session.execute(query.order_by(Complaint.id.desc()).limit(PAGE).offset((max(f.page, 1) - 1) * PAGE))
    out = []
    for r in rows:
        item = dict(r._mapping)
        item["overdue"] = r.first_response_at is None and r.first_response_due < now and r.status in OPEN
        out.append(item)
    return out, int(total or 0)


def choices(session: Session, languages: list[str]) -> dict[str, list[str]]:
    """What the inbox's filters offer (owners: everyone who ever took a complaint)."""
    sources = [s for (s,) in session.execute(select(SourceState.name).order_by(SourceState.name))]
    named = select(Complaint.owner_name).where(Complaint.owner_name.is_not(None)).distinct()
    owners = [str(o) for (o,) in session.execute(named.order_by(Complaint.owner_name))]
    return {"statuses": list(STATUSES), "sources": sources, "languages": languages, "owners": owners}


def complaint(session: Session, complaint_id: int) -> dict[str, Any] | None:
    c = session.get(Complaint, complaint_id)
    if c is None:
        return None
    m = session.get(Mention, c.mention_id) if c.mention_id else None
    draft = current_draft(session, c.id)
    follow = current_draft(session, c.id, "follow_up")
    events = list(session.scalars(select(Event).where(Event.complaint_id == c.id).order_by(Event.id)))
    conv = session.get(ConversationRow, c.id)
    promises = list(session.scalars(select(Promise).where(Promise.complaint_id == c.id).order_by(Promise.id)))
    return {
        "c": c,
        "m": m,
        "draft": draft,
        "follow_up": follow,
        "events": events,
        "conversation": conv.state if conv is not None and conv.customer_id is not None else None,
        "bound": conv is not None and conv.customer_id is not None,  # the customer came in by our reply's link
        "customer": " ".join(
            p for p in (conv.customer_name, f"@{conv.customer_username}" if conv.customer_username else None) if p
        )
        if conv is not None
        else None,
        "promises": promises,
        "transcript": _transcript(session, c.id),
    }


def sources(session: Session) -> list[SourceState]:
    return list(session.scalars(select(SourceState).order_by(SourceState.name)))


def _transcript(session: Session, complaint_id: int) -> list[dict[str, Any]]:
    """The private conversation as the customer saw it and as they wrote, rebuilt from the outbox."""
    out: list[dict[str, Any]] = []
    query = select(Outbox).where(Outbox.complaint_id == complaint_id, Outbox.kind.in_(("say", "relay")))
    for row in session.scalars(query.order_by(Outbox.id)):
        try:
            payload = from_json(row.kind, row.payload or {})
        except ValueError:
            continue
        if isinstance(payload, Relay):
            out.append({"at": row.created_at, "who": "customer", "text": payload.text})
        elif isinstance(payload, Say):
            out += [{"at": row.created_at, "who": "reclaim", "text": m.text} for m in payload.messages]
    return out
