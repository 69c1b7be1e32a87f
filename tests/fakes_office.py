"""The fake unit of work's repositories for the office's own rows: corrective actions, dashboard
logins and FAQ entries (tests/fakes.py builds them into ``FakeUnitOfWork``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from storage import uow, uow_triage
from storage.tables import Action, FaqEntry, WebUser
from storage.tables_triage import Label, TriageModel

if TYPE_CHECKING:
    from tests.fakes import FakeStore


class FakeActions(uow.Actions):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def for_cause(self, cause: str) -> list[Action]:
        return [a for a in self.store.actions if a.cause == cause and a.status != "dropped"]

    def join(self, action_id: int, complaint_id: int) -> None:
        self.store.covered.add((action_id, complaint_id))

    def add(self, action: Action) -> int:
        action.id = next(self.store.ids)
        self.store.actions.append(action)
        return action.id

    def get(self, action_id: int, *, lock: bool = False) -> Action | None:
        return next((a for a in self.store.actions if a.id == action_id), None)

    def listing(self, status: str | None) -> list[tuple[Action, int]]:
        rows = sorted((a for a in self.store.actions if not status or a.status == status), key=lambda a: a.id)
        return [(a, sum(1 for aid, _ in self.store.covered if aid == a.id)) for a in rows]

    def complaints_with_cause(self, cause: str, since: datetime) -> list[int]:
        return [c.id for c in self.store.complaints.values() if c.root_cause == cause and c.created_at >= since]


class FakeLogins(uow.Logins):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def by_name(self, name: str, *, lock: bool = False) -> WebUser | None:
        return next((u for u in self.store.logins if u.name == name), None)

    def get(self, user_id: int, *, lock: bool = False) -> WebUser | None:
        return next((u for u in self.store.logins if u.id == user_id), None)

    def add(self, row: WebUser) -> int:
        row.id = next(self.store.ids)
        self.store.logins.append(row)
        return row.id

    def every(self) -> list[WebUser]:
        return sorted(self.store.logins, key=lambda u: u.name)


class FakeFaq(uow.Faq):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(self, row: FaqEntry) -> int:
        row.id = next(self.store.ids)
        self.store.faq.append(row)
        return row.id

    def delete(self, entry_id: int) -> bool:
        kept = [e for e in self.store.faq if e.id != entry_id]
        found, self.store.faq[:] = len(kept) < len(self.store.faq), kept
        return found

    def entries(self, language: str | None) -> list[FaqEntry]:
        rows = [e for e in self.store.faq if not language or e.language == language]
        return sorted(rows, key=lambda e: (e.language, e.id))


class FakeLabels(uow_triage.Labels):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def put(
        self, mention_id: int, complaint: bool, weight: float, origin: str, actor: str | None, at: datetime
    ) -> None:
        old = self.store.labels.get(mention_id)
        if old is None or origin != "rating" or old.origin == "rating":
            self.store.labels[mention_id] = Label(mention_id=mention_id, complaint=complaint, weight=weight,
                                                  origin=origin, actor=actor, at=at)  # fmt: skip

    def counts(self, since: datetime | None = None) -> tuple[int, int]:
        rows = [r for r in self.store.labels.values() if since is None or r.at > since]
        return len(rows), sum(1 for r in rows if r.complaint)

    def rated(self, low: float, high: float, since: datetime | None = None) -> int:
        return sum(
            1 for mid, m in self.store.mentions.items()
            if m.rating is not None and (m.rating <= low or m.rating >= high) and mid not in self.store.labels
            and (since is None or m.fetched_at > since)
        )  # fmt: skip

    def training(self) -> list[uow_triage.Labelled]:
        out = []
        for mid, label in self.store.labels.items():
            m = self.store.mentions[mid]
            out.append(uow_triage.Labelled(mid, m.text, m.title, m.rating, m.language, label.complaint, label.weight))
        for mid, m in self.store.mentions.items():
            if m.rating is not None and mid not in self.store.labels:
                out.append(uow_triage.Labelled(mid, m.text, m.title, m.rating, m.language, None, 0.0))
        return out


class FakeTriageModels(uow_triage.TriageModels):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(self, row: TriageModel) -> int:
        row.id = next(self.store.ids)
        self.store.models.append(row)
        del self.store.models[:-3]
        return row.id

    def newest(self) -> TriageModel | None:
        return self.store.models[-1] if self.store.models else None

    def weights(self, model_id: int) -> dict[str, Any] | None:
        return next((m.data for m in self.store.models if m.id == model_id), None)

    def deciding_id(self) -> int | None:
        newest = self.newest()
        return newest.id if newest is not None and newest.decides else None
