"""The journal's tables. Every change to them goes with an Alembic migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core import lifecycle
from core.lifecycle import Delivery, FollowUp, Part, Status

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so it is added back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the journal; use aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class SourceState(Base):
    """Per-source fetch state and health: validators for conditional GET, errors, backoff."""

    __tablename__ = "source_state"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    last_warning: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    items_seen: Mapped[int] = mapped_column(Integer, default=0)
    mentions_added: Mapped[int] = mapped_column(Integer, default=0)
    cursor: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # where a listing source stopped (Reddit)
    # several workers on one journal: who polls it now (until when), and when it is due again
    lease_holder: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    due_at: Mapped[datetime | None]


class Worker(Base):
    """A `reclaim run` process on this journal, seen at each of its heartbeats."""

    __tablename__ = "workers"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    leading: Mapped[bool] = mapped_column(Boolean, default=False)
    lock_pid: Mapped[int | None] = mapped_column(Integer)  # PostgreSQL: the session holding the leader's lock


class Mention(Base):
    """One item seen at a source, with triage's verdict. Unique per (source, external_id)."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_mentions_source_external_id"),
        Index("ix_mentions_kind_fetched", "kind", "fetched_at"),
        Index("ix_mentions_fetched_at", "fetched_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(512))
    url: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(512))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime]
    rating: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    flags: Mapped[list[str]]
    severity: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    triage: Mapped[dict[str, Any]]
    origin: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # where to answer in place (chat/message ids)
    # the mentions lane: None (not shown), open, promoted, answered, thanked, ignored
    lane: Mapped[str | None] = mapped_column(String(16), index=True)
    lane_by: Mapped[str | None] = mapped_column(String(64))
    lane_at: Mapped[datetime | None]


class Complaint(Base):
    """A complaint opened from a mention; its history lives in ``events``."""

    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_status_due", "status", "first_response_due"),
        Index("ix_complaints_created_at", "created_at"),
        # the inbox's "overdue" filter: only complaints still without a first answer
        Index(
            "ix_complaints_unanswered_id",
            "id",
            sqlite_where=sql_text("first_response_at IS NULL"),
            postgresql_where=sql_text("first_response_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id"), unique=True)
    # what the case answers: a complaint, or a question or praise the team chose to answer in public
    kind: Mapped[str] = mapped_column(String(16), default="complaint", server_default="complaint")
    source: Mapped[str | None] = mapped_column(String(64), index=True)  # the mention's, for the inbox's filter
    status: Mapped[str] = mapped_column(String(24))
    language: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    flags: Mapped[list[str]]
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_response_due: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    publisher: Mapped[str] = mapped_column(String(16), default="manual")
    owner_id: Mapped[int | None] = mapped_column(BigInteger)
    owner_name: Mapped[str | None] = mapped_column(String(128), index=True)
    card_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(Integer)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    reply_id: Mapped[str | None] = mapped_column(String(64))  # our public reply where it was posted
    reply_url: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[str | None] = mapped_column(String(16))  # the public follow-up: proposed, queued, ...
    root_cause: Mapped[str | None] = mapped_column(String(64), index=True)  # one of review.causes, or other:…
    justified: Mapped[bool | None] = mapped_column(Boolean)  # was the customer right?

    # The only writers of ``status`` and ``follow_up`` after a complaint is created: each move is
    # one of core.lifecycle's, and an event the table does not allow changes nothing.

    def advance(self, event: lifecycle.Event, now: datetime) -> bool:
        """Move the status as core.lifecycle says; False (nothing changes) where it does not apply."""
        current = Status(self.status)
        if not lifecycle.allows(Part.STATUS, current, event):
            return False
        self.status, self.updated_at = lifecycle.status_after(current, event).value, now
        return True

    def advance_follow_up(self, event: lifecycle.Event, now: datetime) -> bool:
        """Move the public follow-up as core.lifecycle says; False where it does not apply."""
        current = FollowUp(self.follow_up) if self.follow_up else None
        if not lifecycle.allows(Part.FOLLOW_UP, current, event):
            return False
        self.follow_up, self.updated_at = lifecycle.follow_up_after(current, event).value, now
        return True


class Draft(Base):
    """A public reply draft; the newest row of a complaint is its current draft."""

    __tablename__ = "drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    purpose: Mapped[str] = mapped_column(String(16), default="reply", server_default="reply")  # or follow_up


class Event(Base):
    """Append-only log of every step of a complaint."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_complaint_id_id", "complaint_id", "id"),
        Index("ix_events_kind_at", "kind", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(48))
    actor: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]


class Outbox(Base):
    """Every message that leaves the process, written with the state change that caused it.

    ``key`` makes a send happen at most once per purpose (``publish:12``, ``alert:12:legal_threat``).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), index=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    def advance(self, event: lifecycle.Event, now: datetime) -> bool:
        """Move the row as core.lifecycle says (the only writer of ``status`` once it exists);
        False, and nothing changes, where the event does not apply."""
        current = Delivery(self.status)
        if not lifecycle.allows(Part.DELIVERY, current, event):
            return False
        self.status, self.updated_at = lifecycle.delivery_after(current, event).value, now
        return True


class CardQueue(Base):
    """Each complaint's staff card: ``version`` grows with every change, ``drawn`` is the newest
    version shown in the staff chat; the card is due while version > drawn. Versions only grow,
    so a slow redraw can never paint an older card over a newer one."""

    __tablename__ = "card_queue"
    __table_args__ = (
        Index(
            "ix_card_queue_due",
            "complaint_id",
            sqlite_where=sql_text("version > drawn"),
            postgresql_where=sql_text("version > drawn"),
        ),
    )
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    drawn: Mapped[int] = mapped_column(Integer, default=0)


class SeenUpdate(Base):
    """Telegram update ids already acted on, so a redelivered update changes nothing."""

    __tablename__ = "tg_updates"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]


class StaffPrompt(Base):
    """A question the bot asked a staff member (new draft text, reject reason); the reply answers it."""

    __tablename__ = "staff_prompts"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id", name="uq_staff_prompts_chat_message"),
        Index("ix_staff_prompts_complaint_id", "complaint_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(Integer)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


class ConversationRow(Base):
    """A complaint's private conversation: who it is bound to and the machine's state (JSON)."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_customer", "customer_id", "updated_at"),)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(BigInteger)  # the Telegram user who used the link first
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    customer_name: Mapped[str | None] = mapped_column(String(128))
    customer_username: Mapped[str | None] = mapped_column(String(64))  # @username, shown on the card
    state: Mapped[dict[str, Any]]
    step: Mapped[str] = mapped_column(String(16))
    bound_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class Promise(Base):
    """A time told to a customer; kept when the owner acts before it, missed otherwise."""

    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_open_due", "kept_at", "missed_at", "due"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # answer, manager
    due: Mapped[datetime]
    made_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    kept_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    slip_reason: Mapped[str | None] = mapped_column(Text)  # the owner's words for the apology


class Action(Base):
    """A corrective action: what will change so a cause of complaints stops, who owns it, by when."""

    __tablename__ = "corrective_actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(String(64), index=True)
    owner: Mapped[str | None] = mapped_column(String(128))
    due: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))  # open, done, dropped
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    done_at: Mapped[datetime | None]


class ActionComplaint(Base):
    """Which complaints an action covers (one action, many complaints)."""

    __tablename__ = "action_complaints"
    action_id: Mapped[int] = mapped_column(ForeignKey("corrective_actions.id"), primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True, index=True)


class WebUser(Base):
    """A login for the web dashboard: staff act on complaints, managers also see reports and
    manage corrective actions. Only an Argon2 hash of the password is kept."""

    __tablename__ = "web_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # staff, manager
    telegram_id: Mapped[int | None] = mapped_column(BigInteger)  # the same person in the staff chat
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # bumped by logout, a new password and disabling: a session of an older epoch is over
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ServiceStatus(Base):
    """How a long-running part of `reclaim run` is doing (the Telegram bot: starting, running,
    waiting for Telegram), for `reclaim status` and `reclaim sources`."""

    __tablename__ = "service_status"
    component: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    since: Mapped[datetime]
    updated_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]


class FaqEntry(Base):
    """A question the team has answered, promoted to the public questions-and-answers page."""

    __tablename__ = "faq_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    language: Mapped[str] = mapped_column(String(16), index=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))  # where it came from
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
