"""The unit of work's repositories for triage labels and learned models (storage/uow.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, defer

from storage import uow_triage
from storage.privacy import ERASED
from storage.tables import Mention
from storage.tables_triage import Label, TriageModel

RATING = "rating"
KEEP = 3  # models kept: the newest (the one that decides, if any) and two before it


class SqlLabels(uow_triage.Labels):
    def __init__(self, session: Session) -> None:
        self.session = session

    def put(
        self, mention_id: int, complaint: bool, weight: float, origin: str, actor: str | None, at: datetime
    ) -> None:
        row = self.session.scalar(select(Label).where(Label.mention_id == mention_id).with_for_update())
        if row is None:
            self.session.add(Label(mention_id=mention_id, complaint=complaint, weight=weight, origin=origin,
                                   actor=actor, at=at))  # fmt: skip
            self.session.flush()
        elif origin != RATING or row.origin == RATING:
            row.complaint, row.weight, row.origin, row.actor, row.at = complaint, weight, origin, actor, at

    def counts(self, since: datetime | None = None) -> tuple[int, int]:
        query = select(func.count(), func.count().filter(Label.complaint.is_(True)))
        if since is not None:
            query = query.where(Label.at > since)
        n, complaints = self.session.execute(query).one()
        return int(n), int(complaints or 0)

    def rated(self, low: float, high: float, since: datetime | None = None) -> int:
        query = select(func.count()).select_from(Mention).where(
            (Mention.rating <= low) | (Mention.rating >= high), Mention.text != ERASED,
            Mention.id.not_in(select(Label.mention_id)),
        )  # fmt: skip
        if since is not None:
            query = query.where(Mention.fetched_at > since)
        return int(self.session.scalar(query) or 0)

    def training(self) -> list[uow_triage.Labelled]:
        query = (
            select(Label, Mention.text, Mention.title, Mention.rating, Mention.language)
            .join(Mention, Mention.id == Label.mention_id)
            .where(Mention.text != ERASED)
            .order_by(Label.id)
        )
        out: list[uow_triage.Labelled] = []
        for label, text, title, rating, language in self.session.execute(query):
            out.append(
                uow_triage.Labelled(label.mention_id, text, title, rating, language, label.complaint, label.weight)
            )
        rated = select(Mention).where(
            Mention.rating.is_not(None), Mention.text != ERASED, Mention.id.not_in(select(Label.mention_id))
        )
        for m in self.session.scalars(rated.order_by(Mention.id)):
            out.append(uow_triage.Labelled(m.id, m.text, m.title, m.rating, m.language, None, 0.0))
        return out


class SqlTriageModels(uow_triage.TriageModels):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: TriageModel) -> int:
        self.session.add(row)
        self.session.flush()
        kept = select(TriageModel.id).order_by(TriageModel.id.desc()).limit(KEEP).scalar_subquery()
        self.session.execute(delete(TriageModel).where(TriageModel.id.not_in(kept)))
        return row.id

    def newest(self) -> TriageModel | None:
        query = select(TriageModel).options(defer(TriageModel.data)).order_by(TriageModel.id.desc()).limit(1)
        return self.session.scalar(query)

    def weights(self, model_id: int) -> dict[str, Any] | None:
        return self.session.scalar(select(TriageModel.data).where(TriageModel.id == model_id))

    def deciding_id(self) -> int | None:
        row = self.session.execute(
            select(TriageModel.id, TriageModel.decides).order_by(TriageModel.id.desc()).limit(1)
        ).first()
        return int(row[0]) if row is not None and row[1] else None
