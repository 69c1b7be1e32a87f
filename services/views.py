"""The read models: what the dashboard, the CLI and the demo show, each read in a transaction of
its own (cosmicpython's views). The queries are storage's (storage/dashboard.py, queries.py,
review.py, status.py); the faces call these and never open a session themselves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from storage import dashboard, queries
from storage.outbox import listing
from storage.review import Review, collect
from storage.status import statuses
from storage.tables import Complaint, SourceState


class Views:
    def __init__(self, sessions: sessionmaker[Session], link_base: str | None = None) -> None:
        self.sessions, self.link_base = sessions, link_base

    def _read(self, query: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self.sessions() as session:
            return query(session, *args, **kwargs)

    # -- the dashboard -------------------------------------------------------------------------

    def inbox(self, f: dashboard.Filters, now: datetime) -> tuple[list[dict[str, Any]], int]:
        result: tuple[list[dict[str, Any]], int] = self._read(dashboard.inbox, f, now)
        return result

    def choices(self, languages: list[str]) -> dict[str, list[str]]:
        result: dict[str, list[str]] = self._read(dashboard.choices, languages)
        return result

    def complaint_page(self, complaint_id: int) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._read(dashboard.complaint, complaint_id)
        return result

    def source_states(self) -> list[SourceState]:
        with self.sessions() as session:
            rows = dashboard.sources(session)
            session.expunge_all()  # read after the session: nothing is loaded lazily
            return rows

    def review(self, month: str, zone: ZoneInfo, sla: timedelta) -> Review:
        result: Review = self._read(collect, month, zone, sla)
        return result

    # -- the command line and the demo -----------------------------------------------------------

    def source_health(self, names: Sequence[str]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._read(queries.source_health, names)
        return result

    def statuses(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._read(statuses)
        return result

    def mentions(self, *, kind: str | None = None, source: str | None = None, limit: int | None = None,
                 lane: bool = False, language: str | None = None, unsure: bool = False,
                 search: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
        result: list[dict[str, Any]] = self._read(
            queries.list_mentions, kind=kind, source=source, limit=limit, lane=lane, language=language,
            unsure=unsure, search=search,
        )  # fmt: skip
        return result

    def complaints(self, *, status: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._read(
            queries.list_complaints, link_base=self.link_base, status=status, limit=limit
        )
        return rows

    def complaint_detail(self, complaint_id: int) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._read(queries.complaint_detail, complaint_id, link_base=self.link_base)
        return result

    def outbox(self, statuses: Sequence[str] | None, limit: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._read(listing, statuses, limit)
        return result

    def complaint_status(self, complaint_id: int) -> str | None:
        with self.sessions() as session:
            c = session.get(Complaint, complaint_id)
            return c.status if c is not None else None

    def token(self, complaint_id: int) -> str | None:
        with self.sessions() as session:
            c = session.get(Complaint, complaint_id)
            return c.token if c is not None else None

    def polled(self) -> set[str]:
        """The sources polled at least once."""
        with self.sessions() as session:
            rows = session.query(SourceState.name).filter(SourceState.last_polled_at.is_not(None))
            return {name for (name,) in rows}
