"""The unit of work's repositories for triage: the team's decisions as labels, and the learned
models trained on them (storage/uow.py builds them into ``UnitOfWork``)."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.tables_triage import TriageModel


@dataclass(frozen=True, slots=True)
class Labelled:
    """A labelled mention as training reads it."""

    mention_id: int
    text: str
    title: str | None
    rating: float | None
    language: str
    complaint: bool | None  # None: nobody decided, but the mention has a review's stars
    weight: float


class Labels(abc.ABC):
    """The team's decisions as triage labels (storage/tables_triage.py)."""

    @abc.abstractmethod
    def put(
        self, mention_id: int, complaint: bool, weight: float, origin: str, actor: str | None, at: datetime
    ) -> None:
        """Label a mention; a newer decision replaces an older one, a star rating never replaces
        a person's decision."""

    @abc.abstractmethod
    def counts(self, since: datetime | None = None) -> tuple[int, int]:
        """How many labels (since then, or all) and how many of them say complaint."""

    @abc.abstractmethod
    def rated(self, low: float, high: float, since: datetime | None = None) -> int:
        """Mentions nobody labelled whose stars are at most ``low`` or at least ``high`` (seen
        since then, or all): what the stars say counts as a label too."""

    @abc.abstractmethod
    def training(self) -> list[Labelled]:
        """Every label whose text is still in the journal (not erased), and every mention with
        a rating that nobody labelled (``complaint`` None)."""


class TriageModels(abc.ABC):
    @abc.abstractmethod
    def add(self, row: TriageModel) -> int:
        """Keep a new model; only the newest few are kept."""

    @abc.abstractmethod
    def newest(self) -> TriageModel | None:
        """The last model trained, without its weights; it decides if its ``decides`` is set,
        else the word lists do."""

    @abc.abstractmethod
    def weights(self, model_id: int) -> dict[str, Any] | None:
        """A model's weights (core/learned.py's data)."""

    @abc.abstractmethod
    def deciding_id(self) -> int | None:
        """The id of the model that decides now (None: the word lists decide)."""
