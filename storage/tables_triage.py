"""The triage's own tables: the team's decisions as labels, and the learned models trained on them.

A label says whether a mention is a complaint, from the team's decisions (approve, edit, reject
as "not a complaint", It's a complaint, Ignore, Answer, Thank) or, with a lower weight, from a
review's stars. One label per mention: the newest decision wins. A model is kept as data (JSON
weights, core/learned.py), with the scores that decided whether it or the word lists decide.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.tables import Base


class Label(Base):
    __tablename__ = "triage_labels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), unique=True)
    complaint: Mapped[bool] = mapped_column(Boolean)
    weight: Mapped[float] = mapped_column(Float)
    origin: Mapped[str] = mapped_column(String(16))  # approve, reject, promote, ignore, answer, thank, rating …
    actor: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)


class TriageModel(Base):
    __tablename__ = "triage_models"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trained_at: Mapped[datetime]
    labels: Mapped[int] = mapped_column(Integer)
    complaints: Mapped[int] = mapped_column(Integer)
    rules_f1: Mapped[float] = mapped_column(Float)  # macro F1 of the word lists on the labels
    learned_f1: Mapped[float] = mapped_column(Float)  # the learned model's, cross-validated
    decides: Mapped[bool] = mapped_column(Boolean)  # the learned model beat the word lists
    seconds: Mapped[float] = mapped_column(Float)  # how long training took
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # the weights (core/learned.py), never a pickle
