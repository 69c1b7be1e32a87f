"""The unit of work's repository for the sources' health rows (storage/uow.py builds it into
``UnitOfWork``): validators for conditional GETs, cursors, failures and backoff."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

from storage.tables import SourceState


class Sources(abc.ABC):
    @abc.abstractmethod
    def known(self, source: str, external_ids: Iterable[str]) -> set[str]:
        """Which of these items the journal already holds for the source."""

    @abc.abstractmethod
    def state(self, name: str) -> SourceState:
        """The source's health row, made if missing, locked for this transaction."""

    @abc.abstractmethod
    def validators(self, names: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        """These sources' ETag and Last-Modified, for conditional GETs."""

    @abc.abstractmethod
    def cursor(self, name: str) -> dict[str, object]:
        """Where a reading source stopped (empty before its first poll)."""

    @abc.abstractmethod
    def mark(self, names: Iterable[str], values: dict[str, Any]) -> None:
        """Set these fields on these sources' rows, each row made if missing (a place that answers
        304 to a request without validators), in a couple of statements however many there are."""
