"""A complaint's staff card: its queue of versions to draw (``card_queue``) and the view it
is drawn from (the read model of core.inbox.CardView)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from core.lifecycle import Delivery, Status
from core.ports import CardView
from storage import outbox
from storage.journal import _insert
from storage.queries import current_draft
from storage.tables import CardQueue, Complaint, ConversationRow, Event, Mention


def bump_card(session: Session, complaint_id: int) -> int:
    """Mark a complaint's staff card as due to be sent or redrawn; returns its new version."""
    stmt = _insert(session, CardQueue).values(complaint_id=complaint_id, version=1, drawn=0)
    stmt = stmt.on_conflict_do_update(index_elements=["complaint_id"], set_={"version": CardQueue.version + 1})
    return int(session.connection().execute(stmt.returning(CardQueue.version)).scalar_one())


def _score(origin: dict[str, Any] | None) -> int | None:
    value = (origin or {}).get("score")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def card_view(session: Session, complaint_id: int) -> CardView | None:
    c = session.get(Complaint, complaint_id)
    if c is None:
        return None
    m = session.get(Mention, c.mention_id) if c.mention_id else None
    draft = current_draft(session, c.id)
    names = _who_did(session, c.id)
    publish, failed = outbox.for_card(session, c.id)
    conv = session.get(ConversationRow, c.id)
    follow = current_draft(session, c.id, "follow_up") if c.follow_up else None
    return CardView(
        case=c.kind,
        id=c.id,
        status=Status(c.status),
        source=m.source if m else "",
        url=m.url if m else None,
        author=m.author if m else None,
        title=m.title if m else None,
        text=m.text if m else "",
        rating=m.rating if m else None,
        language=c.language,
        kind=m.kind if m else "complaint",
        flags=tuple(c.flags),
        severity=c.severity,
        category=c.category,
        created_at=c.created_at,
        due=c.first_response_due,
        responded_at=c.first_response_at,
        draft=draft.text if draft else "",
        draft_edited_by=names.get("draft_edited"),
        owner_id=c.owner_id,
        owner_name=c.owner_name,
        publisher=c.publisher,
        reject_reason=c.reject_reason,
        approved_by=names.get("approved"),
        by_policy=names.get("approved_by_policy"),
        amendable=c.publisher != "manual" and bool(c.reply_id),
        published_by=names.get("published"),
        publish_error=publish.last_error if publish is not None and publish.status != Delivery.DONE else None,
        card_chat_id=c.card_chat_id,
        card_message_id=c.card_message_id,
        conversation_step=conv.step if conv is not None and conv.customer_id is not None else None,
        insults=int((conv.state or {}).get("insults") or 0) if conv is not None else 0,
        reply_url=c.reply_url,
        score=_score(m.origin if m else None),
        follow_up=c.follow_up,
        follow_up_text=follow.text if follow is not None else "",
        root_cause=c.root_cause,
        justified=c.justified,
        failed_sends=failed,
        customer_name=conv.customer_name if conv is not None and conv.customer_id is not None else None,
        customer_username=conv.customer_username if conv is not None and conv.customer_id is not None else None,
        new_link=c.token if "link_released" in names else None,  # a link made anew by a release
    )


def _who_did(session: Session, complaint_id: int) -> dict[str, str]:
    """Who did each of these last (by the policy: after how long without a staff action)."""
    kinds = ("approved", "published", "draft_edited", "approved_by_policy", "link_released")
    rows = session.execute(
        select(Event.kind, Event.data)
        .where(Event.complaint_id == complaint_id, Event.kind.in_(kinds))
        .order_by(Event.id)
    )
    return {kind: str((data or {}).get("name") or (data or {}).get("after") or "") for kind, data in rows}


def due_cards(session: Session, limit: int, only: int | None = None) -> list[tuple[int, int]]:
    """Cards to send or redraw (complaint id, version), or only complaint ``only``'s."""
    query = select(CardQueue.complaint_id, CardQueue.version).where(CardQueue.version > CardQueue.drawn)
    if only is not None:
        query = query.where(CardQueue.complaint_id == only)
    rows = session.execute(query.order_by(CardQueue.complaint_id).limit(limit))
    return [(cid, v) for cid, v in rows]


def drawn(session: Session, versions: dict[int, int]) -> None:
    """Record cards shown in the staff chat (complaint id → the version drawn); a version never
    goes back, so a slow redraw cannot mark an older card over a newer one."""
    if not versions:
        return
    stmt = (
        update(CardQueue)
        .where(CardQueue.complaint_id == bindparam("cid"), CardQueue.drawn < bindparam("v"))
        .values(drawn=bindparam("v"))
    )
    session.connection().execute(stmt, [{"cid": cid, "v": v} for cid, v in sorted(versions.items())])
