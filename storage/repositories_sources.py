"""The SQL implementation of storage/uow_sources.py: the sources' health rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage import uow_sources
from storage.journal import NEW_SOURCE, _insert, known_ids, source_state
from storage.tables import SourceState

BATCH = 500


class SqlSources(uow_sources.Sources):
    def __init__(self, session: Session) -> None:
        self.session = session

    def known(self, source: str, external_ids: Iterable[str]) -> set[str]:
        return known_ids(self.session, source, external_ids)

    def state(self, name: str) -> SourceState:
        return source_state(self.session, name)

    def validators(self, names: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        wanted = set(names)
        query = select(SourceState.name, SourceState.etag, SourceState.last_modified)
        if len(wanted) <= BATCH:  # one source per poll in `reclaim run`; all of them in `poll --once`
            query = query.where(SourceState.name.in_(wanted))
        return {name: (etag, modified) for name, etag, modified in self.session.execute(query) if name in wanted}

    def cursor(self, name: str) -> dict[str, object]:
        state = self.session.get(SourceState, name)
        return dict(state.cursor or {}) if state is not None else {}

    def mark(self, names: Iterable[str], values: dict[str, Any]) -> None:
        wanted = sorted(set(names))  # in one order, so two writers never deadlock on these rows
        if not wanted:
            return
        made = _insert(self.session, SourceState).on_conflict_do_nothing(index_elements=["name"])
        self.session.execute(made, [{**NEW_SOURCE, "name": name} for name in wanted])
        for i in range(0, len(wanted), BATCH):
            part = wanted[i : i + BATCH]
            self.session.execute(update(SourceState).where(SourceState.name.in_(part)).values(values))
