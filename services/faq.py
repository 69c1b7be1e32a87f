"""The public questions-and-answers page: entries the team promoted, exported as HTML or Markdown
for the company's site. Only what the team wrote is published, never a customer's own words."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.tables import FaqEntry
from storage.uow import UnitOfWork

MAX = 4000


class FaqError(ValueError):
    """A request about the FAQ that cannot be done, in words for the person who asked."""


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    language: str
    question: str
    answer: str
    complaint_id: int | None


class Faq:
    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self.uow = uow

    def add(self, question: str, answer: str, language: str, complaint_id: int | None, actor: str) -> int:
        question, answer = question.strip(), answer.strip()
        if not question or not answer:
            raise FaqError("an entry needs both a question and an answer")
        if len(question) > MAX or len(answer) > MAX:
            raise FaqError(f"keep the question and the answer under {MAX} characters each")
        with self.uow() as uow:
            if complaint_id is not None and uow.complaints.get(complaint_id) is None:
                raise FaqError(f"no complaint #{complaint_id}")
            row = FaqEntry(language=language, question=question, answer=answer, complaint_id=complaint_id,
                           created_by=actor, created_at=datetime.now(UTC))  # fmt: skip
            return uow.faq.add(row)

    def remove(self, entry_id: int) -> None:
        with self.uow() as uow:
            if not uow.faq.delete(entry_id):
                raise FaqError(f"no entry #{entry_id}")

    def entries(self, language: str | None = None) -> list[Entry]:
        with self.uow() as uow:
            return [Entry(e.id, e.language, e.question, e.answer, e.complaint_id) for e in uow.faq.entries(language)]


def markdown(entries: list[Entry], title: str) -> str:
    def line(text: str) -> str:  # Markdown that shows the text as written
        return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>" else ch for ch in " ".join(text.split()))

    out = [f"# {line(title)}", ""]
    for e in entries:
        out += [f"## {line(e.question)}", "", *(line(p) for p in e.answer.split("\n") if p.strip()), ""]
    return "\n".join(out)


def page(entries: list[Entry], title: str, language: str = "en") -> str:
    e = html.escape
    items = "\n".join(
        f"<section><h2>{e(x.question)}</h2>"
        + "".join(f"<p>{e(p)}</p>" for p in x.answer.split("\n") if p.strip())
        + "</section>"
        for x in entries
    )
    return (
        f'<!doctype html>\n<html lang="{e(language)}">\n<head><meta charset="utf-8"><title>{e(title)}</title></head>\n'
        f"<body>\n<h1>{e(title)}</h1>\n{items}\n</body>\n</html>\n"
    )
