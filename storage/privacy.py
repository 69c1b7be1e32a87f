"""Erasing personal data while keeping anonymous statistics: a customer who asks to be
forgotten (/forget, `reclaim customers forget`), and the retention purge of finished
complaints (`reclaim purge`, daily in `reclaim run`).

What is erased: the post's author, title, text, link and origin; the drafts (they greet by
name); the conversation's answers, corrections and the customer's id, chat and name; the text
of messages queued to or from the customer; the customer's id in event actors. What stays: the
complaint's dates, language, category, severity, flags, statuses, steps, promises and rating,
so the monthly review still counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core import lifecycle
from core.ingest import new_token
from core.lifecycle import Event as E
from core.lifecycle import Status
from core.model import Step
from core.outbox import Erased, OutboxKind, to_json
from storage.tables import Complaint, ConversationRow, Draft, Event, Mention, Outbox
from storage.tables_triage import Label

ERASED = "[erased]"
# what the retention purge anonymises once old: nothing more will happen to them
RETIRED = tuple(s.value for s in (*lifecycle.FINISHED, Status.PUBLISHED))


def erase_complaint(session: Session, complaint_id: int, now: datetime, reason: str) -> None:
    """Erase a complaint's personal data, end its private link for good (the old token matches
    nothing any more) and close its conversation, so no one can pick it up again."""
    c = session.get(Complaint, complaint_id)
    if c is None:
        return
    c.token = new_token()  # the public link's token refuses everyone from now on
    if c.advance(E.FORGOTTEN, now):  # nothing more to do for someone who asked to be forgotten
        session.add(Event(complaint_id=c.id, at=now, kind="closed", actor="reclaim", data={"why": "forgotten"}))
    if c.mention_id is not None:
        session.execute(
            update(Mention)
            .where(Mention.id == c.mention_id)
            .values(author=None, title=None, text=ERASED, url=None, origin=None, triage={"erased": True})
        )
    session.execute(update(Draft).where(Draft.complaint_id == complaint_id).values(text=ERASED))
    row = session.get(ConversationRow, complaint_id)
    if row is not None:
        state = dict(row.state)
        state.update(answers={}, known={}, corrections=[], step=Step.CLOSED.value)
        if state.get("resolution"):
            state["resolution"] = ERASED
        if row.customer_id is not None:
            session.execute(
                update(Event)
                .where(Event.complaint_id == complaint_id, Event.actor == f"customer:tg:{row.customer_id}")
                .values(actor="customer:erased")
            )
        row.state, row.customer_id, row.chat_id, row.customer_name = state, None, None, None
        row.customer_username, row.step, row.updated_at = None, Step.CLOSED.value, now
    for item in session.scalars(
        select(Outbox).where(
            Outbox.complaint_id == complaint_id, Outbox.kind.in_(("say", "relay", "publish", "remind", "amend"))
        )
    ):
        item.payload = to_json(Erased(OutboxKind(item.kind)))
        item.advance(E.FORGOTTEN, now)  # a row not sent yet is cancelled
    session.add(
        Event(complaint_id=complaint_id, at=now, kind="personal_data_erased", actor="reclaim", data={"why": reason})
    )


def forget_customer(session: Session, user_id: int, now: datetime) -> int:
    """Erase everything about one Telegram user; returns how many complaints were theirs."""
    ids = list(session.scalars(select(ConversationRow.complaint_id).where(ConversationRow.customer_id == user_id)))
    for cid in ids:
        erase_complaint(session, cid, now, "the customer asked to be forgotten")
    return len(ids)


@dataclass(frozen=True)
class Purged:
    anonymised: int
    mentions_deleted: int


def purge(session: Session, now: datetime, retention: timedelta) -> Purged:
    """Anonymise finished complaints older than ``retention`` and delete older mentions that
    never became complaints (praise, questions, noise)."""
    cutoff = now - retention
    old = list(
        session.scalars(
            select(Complaint.id).where(
                Complaint.status.in_(RETIRED),
                Complaint.created_at < cutoff,
                ~select(Event.id)
                .where(Event.complaint_id == Complaint.id, Event.kind == "personal_data_erased")
                .exists(),
            )
        )
    )
    for cid in old:
        erase_complaint(session, cid, now, "retention")
    with_complaint = select(Complaint.mention_id).where(Complaint.mention_id.is_not(None))
    doomed = select(Mention.id).where(Mention.fetched_at < cutoff, Mention.id.not_in(with_complaint))
    session.execute(delete(Label).where(Label.mention_id.in_(doomed)))  # a label goes with its text
    gone = session.execute(
        delete(Mention).where(Mention.fetched_at < cutoff, Mention.id.not_in(with_complaint)).returning(Mention.id)
    ).all()
    return Purged(len(old), len(gone))
