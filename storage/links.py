"""A complaint's private link: who opened it, and the owner releasing a link that the wrong
person took (the complaint gets a new token; the old one, and whoever used it, are done)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.ingest import new_token
from core.lifecycle import Event as E
from storage.tables import Complaint, ConversationRow, Draft, Outbox


def release(session: Session, c: Complaint, now: datetime) -> None:
    """Unbind the link: a new token (the owner sends the new link to the real customer), the
    conversation the wrong person started is dropped, and nothing more is sent to them."""
    old, c.token = c.token, new_token()
    # a reply not yet in public carries the new link, not the dead one
    for draft in session.scalars(select(Draft).where(Draft.complaint_id == c.id, Draft.text.contains(old))):
        draft.text = draft.text.replace(old, c.token)
    queued = select(Outbox).where(Outbox.key == f"publish:{c.id}", Outbox.status.in_(("pending", "manual", "failed")))
    for row in session.scalars(queued):
        row.payload = {**row.payload, "text": str(row.payload.get("text") or "").replace(old, c.token)}
    session.execute(delete(ConversationRow).where(ConversationRow.complaint_id == c.id))
    pending = select(Outbox).where(Outbox.complaint_id == c.id, Outbox.kind.in_(("say", "remind")))
    for row in session.scalars(pending):
        row.advance(E.WITHDRAWN, now)
