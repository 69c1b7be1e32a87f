"""A realistic month of journal for the monthly review, its tests and the demo.

Mentions from five sources in three languages, about a third of them complaints and most of
the rest praise. Complaints get these outcomes:
- answered in minutes, in hours or late; a few never;
- closed with ratings, or reopened after a low one;
- promises kept or missed;
- alerts for legal threats, manager requests and missed deadlines;
- root causes and corrective actions.

Everything is seeded, and :class:`Truth` keeps what was made, so a test can check the
report's numbers against the data rather than against the report's own arithmetic.

    .venv/bin/python -m sandbox.month --database sqlite:///month.db --month 2026-10
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.ingest import new_token
from core.review import month_range
from storage.tables import Action, ActionComplaint, Complaint, Event, Mention, Outbox, Promise

SOURCES = {"trustpilot": "en", "reddit-nordlys": "en", "community": "en", "forum-dk": "da", "otzyvy": "ru"}
CAUSES = ["late_delivery", "wrong_item", "damaged_goods", "product_quality", "rude_staff", "billing_error"]
CATEGORIES = {
    "late_delivery": "delivery",
    "wrong_item": "delivery",
    "damaged_goods": "quality",
    "product_quality": "quality",
    "rude_staff": "staff",
    "billing_error": "billing",
}


@dataclass
class Truth:
    kinds: Counter[str] = field(default_factory=Counter)
    complaints: int = 0
    first_response: list[float] = field(default_factory=list)  # seconds, answered ones
    detection: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)
    unanswered: int = 0
    promises: Counter[str] = field(default_factory=Counter)
    ratings: Counter[int] = field(default_factory=Counter)
    escalations: Counter[str] = field(default_factory=Counter)
    causes: Counter[str] = field(default_factory=Counter)
    justified: Counter[str] = field(default_factory=Counter)
    reopened: set[int] = field(default_factory=set)
    actions: Counter[str] = field(default_factory=Counter)
    by_source: dict[str, Counter[str]] = field(default_factory=dict)
    by_policy: list[float] = field(default_factory=list)  # seconds, first answers published by policy


def _response(rng: random.Random) -> float | None:
    """Seconds to the first answer: mostly minutes, some hours, a few days, a few never."""
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.70:
        return rng.uniform(2 * 60, 55 * 60)
    if roll < 0.90:
        return rng.uniform(65 * 60, 20 * 3600)
    return rng.uniform(25 * 3600, 4 * 86400)


def generate(
    sessions: sessionmaker[Session],
    month: str,
    *,
    complaints: int = 400,
    praise_per_complaint: float = 2.5,
    seed: int = 1,
    now: datetime | None = None,
    actions: bool = True,
) -> Truth:
    """Write a month of journal; the database should hold no other data for that month."""
    rng = random.Random(seed)
    first, following = month_range(month)
    start = datetime(first.year, first.month, first.day, 12, tzinfo=UTC)
    days = (following - first).days
    now = now or datetime.now(UTC)
    truth = Truth()
    total_praise = int(complaints * praise_per_complaint)
    plan = ["complaint"] * complaints + ["praise"] * total_praise + ["question"] * (complaints // 5)
    plan += ["other"] * (complaints // 10)
    rng.shuffle(plan)
    with sessions.begin() as session:
        cids: list[tuple[Complaint, str | None]] = []
        for n, kind in enumerate(plan):
            m, cause = _mention(rng, month, n, kind, start, days)
            session.add(m)
            truth.kinds[kind] += 1
            truth.by_source.setdefault(m.source, Counter())[kind] += 1
            if kind != "complaint":
                continue
            session.flush()
            c = _complaint(session, rng, truth, m, m.fetched_at, m.published_at or m.fetched_at, cause, now)
            cids.append((c, cause))
        if actions:
            _actions(session, rng, truth, cids, start, days, now)
    return truth


def _mention(
    rng: random.Random, month: str, n: int, kind: str, start: datetime, days: int
) -> tuple[Mention, str | None]:
    """One mention of the month, and the cause of a complaint."""
    source = rng.choice(list(SOURCES))
    # complaints come early enough for their answers, promises and ratings to fall in the month
    span = days - 7 if kind == "complaint" else days - 1
    fetched = start + timedelta(days=rng.uniform(0, span), hours=rng.uniform(-10, 10))
    published = fetched - timedelta(seconds=rng.uniform(60, 6 * 3600))
    cause = rng.choice(CAUSES) if kind == "complaint" else None
    m = Mention(
        source=source, external_id=f"{month}-{n}", url=f"https://example.org/{source}/{n}",
        author=rng.choice(["Kim", "Lee", "Emma Wilson", "Ole", "Мария", None]), title=None, text=f"{kind} {n}",
        published_at=published, fetched_at=fetched, rating=None, language=SOURCES[source], kind=kind, flags=[],
        severity="normal", category=CATEGORIES[cause] if cause else "general", triage={}, origin=None,
    )  # fmt: skip
    return m, cause


def _complaint(
    session: Session,
    rng: random.Random,
    truth: Truth,
    m: Mention,
    fetched: datetime,
    published: datetime,
    cause: str | None,
    now: datetime,
) -> Complaint:
    truth.complaints += 1
    truth.detection.append((fetched - published).total_seconds())
    answer = _response(rng)
    rejected = answer is not None and rng.random() < 0.04
    c = Complaint(
        mention_id=m.id,
        source=m.source,
        status="draft_ready",
        language=m.language,
        severity="normal",
        category=m.category,
        flags=[],
        token=new_token(),
        created_at=fetched,
        updated_at=fetched,
        first_response_due=fetched + timedelta(hours=1),
        first_response_at=None,
        publisher="manual",
    )
    session.add(c)
    session.flush()
    events = _outcome(session, rng, truth, c, fetched, answer, rejected, cause)
    for at, kind, data in events:
        session.add(Event(complaint_id=c.id, at=at, kind=kind, actor="reclaim", data=data))
    return c


def _outcome(
    session: Session,
    rng: random.Random,
    truth: Truth,
    c: Complaint,
    fetched: datetime,
    answer: float | None,
    rejected: bool,
    cause: str | None,
) -> list[tuple[datetime, str, dict[str, Any]]]:
    """What became of one complaint: alerts, a rejection, no answer, or an answer and maybe the
    private conversation; the events that say so."""
    events: list[tuple[datetime, str, dict[str, Any]]] = [(fetched, "complaint_opened", {})]

    def alert(reason: str, at: datetime) -> None:
        key = f"alert:{c.id}:{reason}"
        session.add(Outbox(key=key, kind="alert", complaint_id=c.id, payload={"reason": reason}, status="done",
                           attempts=1, next_attempt_at=at, created_at=at, updated_at=at))  # fmt: skip
        truth.escalations[reason] += 1

    roll = rng.random()
    if roll < 0.03:
        alert("legal_threat", fetched)
    elif roll < 0.07:
        alert("manager_request", fetched)
    if rejected:
        c.status, c.reject_reason = "rejected", "spam"
        events.append((fetched + timedelta(minutes=5), "rejected", {}))
    elif answer is None:
        truth.unanswered += 1
        alert("deadline_missed", fetched + timedelta(hours=1))
    else:
        answered = fetched + timedelta(seconds=answer)
        c.first_response_at, c.status = answered, "published"
        truth.first_response.append(answer)
        if answer <= 900 and int(answer) % 3 == 0:  # nobody acted in time: respond.auto_publish answered
            truth.by_policy.append(answer)
            events.append((answered - timedelta(seconds=1), "approved_by_policy", {"after": "15m"}))
        events.append((answered, "published", {}))
        if answer > 3600:
            alert("deadline_missed", fetched + timedelta(hours=1))
        if rng.random() < 0.7:
            _private(session, rng, truth, c, answered, cause, events)
    return events


def _private(
    session: Session,
    rng: random.Random,
    truth: Truth,
    c: Complaint,
    answered: datetime,
    cause: str | None,
    events: list[tuple[datetime, str, dict[str, Any]]],
) -> None:
    """The customer came to the private chat: promises, a resolution, a rating, a cause."""
    made = answered + timedelta(minutes=rng.uniform(10, 120))
    for _ in range(rng.choice([1, 1, 2])):
        due = made + timedelta(hours=4)
        kept = rng.random() < 0.85
        p = Promise(complaint_id=c.id, kind="answer", due=due, made_at=made)
        if kept:
            p.kept_at = due - timedelta(minutes=rng.uniform(5, 200))
            truth.promises["kept"] += 1
        else:
            p.missed_at = due
            truth.promises["missed"] += 1
        truth.promises["made"] += 1
        session.add(p)
        made = due + timedelta(minutes=30)
    closed = made + timedelta(hours=rng.uniform(0.5, 30))
    rating = rng.choices([1, 2, 3, 4, 5], weights=[4, 5, 10, 30, 51])[0]
    truth.ratings[rating] += 1
    events.append((closed - timedelta(minutes=1), "rated", {"rating": rating}))
    if rating <= 2:
        events.append((closed, "reopened", {}))
        truth.reopened.add(c.id)
        return
    c.status = "closed"
    events.append((closed, "closed", {}))
    truth.resolution.append((closed - c.created_at).total_seconds())
    if cause is not None:
        justified = rng.random() < 0.8
        c.root_cause, c.justified = cause, justified
        truth.causes[cause] += 1
        truth.justified[cause] += int(justified)


def _actions(
    session: Session,
    rng: random.Random,
    truth: Truth,
    complaints: list[tuple[Complaint, str | None]],
    start: datetime,
    days: int,
    now: datetime,
) -> None:
    """Corrective actions: some opened in the month (a few done), one overdue from before."""
    specs = [
        ("Second carrier for Jutland during peaks", "late_delivery", 5, 20, True),
        ("Double-check sizes at packing", "wrong_item", 8, 40, False),
        ("Stronger boxes for ceramics", "damaged_goods", 12, 9, True),
        ("Billing page shows VAT clearly", "billing_error", -20, 5, False),  # opened before, overdue
    ]
    for title, cause, opened_day, due_days, done in specs:
        created = start + timedelta(days=opened_day)
        due = created + timedelta(days=due_days)
        a = Action(title=title, cause=cause, owner="Anna", due=due, status="open", created_at=created,
                   created_by="tg:111")  # fmt: skip
        end = start + timedelta(days=days)
        if done:
            a.status, a.done_at = "done", min(created + timedelta(days=due_days // 2), end - timedelta(hours=13))
            truth.actions["done"] += int(a.done_at >= start - timedelta(hours=12))
        elif due < min(end, now):
            truth.actions["overdue"] += 1
        if created >= start - timedelta(hours=12):
            truth.actions["opened"] += 1
        session.add(a)
        session.flush()
        for c, c_cause in complaints:
            if c_cause == cause and rng.random() < 0.5:
                session.add(ActionComplaint(action_id=a.id, complaint_id=c.id))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True, help="an SQLAlchemy URL, e.g. sqlite:///month.db")
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--complaints", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from storage.db import make_engine, migrate, session_factory

    engine = make_engine(args.database)
    migrate(engine)
    truth = generate(session_factory(engine), args.month, complaints=args.complaints, seed=args.seed)
    print(f"{args.month}: {sum(truth.kinds.values())} mentions, {truth.complaints} complaints written")


if __name__ == "__main__":
    main()
