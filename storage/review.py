"""The monthly review's numbers, read from the journal: volumes grouped in SQL, per-complaint
times for the month's complaints, promises, ratings, escalations, causes and actions."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.review import Timing, month_range, seconds_between, share, week_of, weeks_between
from storage.tables import Action, ActionComplaint, Complaint, Event, Mention, Outbox, Promise
from storage.tables_triage import Label

KINDS = ("complaint", "praise", "question", "other")
IS_COMPLAINT = Complaint.kind == "complaint"  # answers to questions and thanks for praise are cases too


@dataclass
class Review:
    month: str
    timezone: str
    sla_seconds: float
    generated_at: str
    mentions: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, dict[str, int]] = field(default_factory=dict)
    by_language: dict[str, dict[str, int]] = field(default_factory=dict)
    by_week: dict[str, dict[str, int]] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)  # complaints
    complaints: int = 0  # complaints opened in the month
    statuses: dict[str, int] = field(default_factory=dict)
    detection: Timing = field(default_factory=lambda: Timing(0, None, None))  # publication → detection
    first_response: Timing = field(
        default_factory=lambda: Timing(0, None, None)
    )  # detection → first public (or private) answer
    resolution: Timing = field(default_factory=lambda: Timing(0, None, None))  # detection → closed with the customer
    answered_1h: int = 0
    answered_24h: int = 0
    unanswered: int = 0
    # first answers by whom: the team, or respond.auto_publish (count, median, p90, within 1 h and 24 h)
    responders: dict[str, dict[str, Any]] = field(default_factory=dict)
    promises: dict[str, int] = field(default_factory=dict)  # made, kept, missed, open
    ratings: dict[int, int] = field(default_factory=dict)
    escalations: dict[str, int] = field(default_factory=dict)
    causes: list[dict[str, Any]] = field(default_factory=list)  # cause, complaints, justified
    actions: dict[str, int] = field(default_factory=dict)  # opened, done, overdue
    action_list: list[dict[str, Any]] = field(default_factory=list)
    slowest: list[dict[str, Any]] = field(default_factory=list)
    reopened: list[dict[str, Any]] = field(default_factory=list)
    # triage: complaints it missed (made complaints by staff), how late they were found, and its
    # precision and recall on the month's labelled mentions (the team's decisions)
    missed: int = 0
    missed_found_after: Timing = field(default_factory=lambda: Timing(0, None, None))
    triage: dict[str, Any] = field(default_factory=dict)

    @property
    def praise(self) -> int:
        return self.kinds.get("praise", 0)

    @property
    def satisfaction(self) -> float | None:
        n = sum(self.ratings.values())
        return sum(r * c for r, c in self.ratings.items()) / n if n else None

    @property
    def kept_share(self) -> float | None:
        due = self.promises.get("kept", 0) + self.promises.get("missed", 0)
        return share(self.promises.get("kept", 0), due)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["praise"], out["satisfaction"], out["kept_share"] = self.praise, self.satisfaction, self.kept_share
        out["ratings"] = {str(k): v for k, v in self.ratings.items()}
        return out


def bounds(month: str, zone: ZoneInfo) -> tuple[datetime, datetime, date, date]:
    """The month in the company's time zone, as UTC instants, and its first and following day."""
    first, following = month_range(month)
    start = datetime(first.year, first.month, first.day, tzinfo=zone).astimezone(UTC)
    end = datetime(following.year, following.month, following.day, tzinfo=zone).astimezone(UTC)
    return start, end, first, following


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def collect(
    session: Session, month: str, zone: ZoneInfo, sla: timedelta, *, now: datetime | None = None, slowest: int = 10
) -> Review:
    start, end, first, following = bounds(month, zone)
    now = now or datetime.now(UTC)
    r = Review(month, str(zone), sla.total_seconds(), now.isoformat(timespec="seconds"))
    _volumes(session, r, start, end, first, following)
    _complaints(session, r, start, end, sla, slowest)
    _promises(session, r, start, end)
    _ratings_and_escalations(session, r, start, end)
    _causes_and_actions(session, r, start, end, now)
    _triage(session, r, start, end)
    return r


def _triage(session: Session, r: Review, start: datetime, end: datetime) -> None:
    found = [
        float((data or {}).get("found_after_seconds") or 0)
        for data in session.scalars(
            select(Event.data).join(Complaint, Complaint.id == Event.complaint_id)
            .where(Event.kind == "promoted", Complaint.created_at >= start, Complaint.created_at < end)
        )
    ]  # fmt: skip
    r.missed, r.missed_found_after = len(found), Timing.of(found)
    rows = session.execute(
        select(Mention.kind, Label.complaint)
        .join(Label, Label.mention_id == Mention.id)
        .where(Mention.fetched_at >= start, Mention.fetched_at < end)
    ).all()
    tp = sum(1 for kind, truth in rows if kind == "complaint" and truth)
    fp = sum(1 for kind, truth in rows if kind == "complaint" and not truth)
    fn = sum(1 for kind, truth in rows if kind != "complaint" and truth)
    r.triage = {"labelled": len(rows), "precision": share(tp, tp + fp), "recall": share(tp, tp + fn)}


def _volumes(session: Session, r: Review, start: datetime, end: datetime, first: date, following: date) -> None:
    in_month = (Mention.fetched_at >= start) & (Mention.fetched_at < end)
    day = func.date(Mention.fetched_at)
    rows = session.execute(
        select(Mention.source, Mention.language, Mention.kind, Mention.category, day, func.count())
        .where(in_month)
        .group_by(Mention.source, Mention.language, Mention.kind, Mention.category, day)
    ).all()
    kinds: Counter[str] = Counter()
    source: dict[str, Counter[str]] = defaultdict(Counter)
    language: dict[str, Counter[str]] = defaultdict(Counter)
    week: dict[str, Counter[str]] = {w: Counter() for w in weeks_between(first, following)}
    category: Counter[str] = Counter()
    for src, lang, kind, cat, d, n in rows:
        kinds[kind] += n
        source[src][kind] += n
        language[lang][kind] += n
        week.setdefault(week_of(_day(d)), Counter())[kind] += n
        if kind == "complaint":
            category[cat] += n
    r.mentions = sum(kinds.values())
    r.kinds = {k: kinds.get(k, 0) for k in KINDS}
    r.by_source = {k: dict(v) for k, v in sorted(source.items(), key=lambda kv: -sum(kv[1].values()))}
    r.by_language = {k: dict(v) for k, v in sorted(language.items(), key=lambda kv: -sum(kv[1].values()))}
    r.by_week = {k: dict(v) for k, v in week.items()}
    r.by_category = dict(category.most_common())


def _complaints(session: Session, r: Review, start: datetime, end: datetime, sla: timedelta, slowest: int) -> None:
    rows = session.execute(
        select(
            Complaint.id,
            Complaint.status,
            Complaint.created_at,
            Complaint.first_response_at,
            Mention.source,
            Mention.language,
            Mention.published_at,
        )
        .outerjoin(Mention, Mention.id == Complaint.mention_id)
        .where(Complaint.created_at >= start, Complaint.created_at < end, IS_COMPLAINT)
    ).all()
    closed = dict(
        session.execute(
            select(Event.complaint_id, func.min(Event.at))
            .where(Event.kind == "closed", Event.complaint_id.in_(_month_ids(start, end)))
            .group_by(Event.complaint_id)
        ).all()
    )
    r.complaints = len(rows)
    r.statuses = dict(Counter(row.status for row in rows).most_common())
    detect = [seconds_between(row.published_at, row.created_at) for row in rows]
    first = {row.id: seconds_between(row.created_at, row.first_response_at) for row in rows}
    resolve = [seconds_between(row.created_at, closed.get(row.id)) for row in rows]
    r.detection = Timing.of(s for s in detect if s is not None)
    answered = [s for s in first.values() if s is not None]
    r.first_response = Timing.of(answered, sla)
    r.resolution = Timing.of(s for s in resolve if s is not None)
    r.answered_1h = sum(1 for s in answered if s <= 3600)
    r.answered_24h = sum(1 for s in answered if s <= 86400)
    r.unanswered = sum(1 for row in rows if row.first_response_at is None and row.status != "rejected")
    r.responders = _responders(session, first, start, end)

    def lateness(row: Any) -> float:  # never answered is slowest of all
        took = first[row.id]
        return took if took is not None else 1e12 - row.created_at.timestamp()

    worst = sorted((row for row in rows if row.status != "rejected"), key=lateness, reverse=True)[:slowest]
    r.slowest = [
        {
            "id": row.id,
            "source": row.source,
            "language": row.language,
            "status": row.status,
            "first_response_seconds": first[row.id],
        }
        for row in worst
    ]
    reopened = session.execute(
        select(Event.complaint_id, func.count())
        .where(Event.kind == "reopened", Event.at >= start, Event.at < end)
        .group_by(Event.complaint_id)
        .order_by(func.count().desc(), Event.complaint_id)
    ).all()
    r.reopened = [{"id": cid, "times": n} for cid, n in reopened]


def _responders(
    session: Session, first: dict[int, float | None], start: datetime, end: datetime
) -> dict[str, dict[str, Any]]:
    """First answers split by who gave them: the team, or the policy (services/policy.py's event)."""
    approvals = session.execute(  # the last approval decides: a reply withdrawn and approved anew is staff's
        select(Event.complaint_id, Event.kind)
        .where(Event.kind.in_(("approved", "approved_by_policy")), Event.complaint_id.in_(_month_ids(start, end)))
        .order_by(Event.id)
    )
    last: dict[int, str] = dict(approvals.all())
    by_policy = {cid for cid, kind in last.items() if kind == "approved_by_policy"}
    out = {}
    for who in ("staff", "policy"):
        took = [s for cid, s in first.items() if s is not None and (cid in by_policy) == (who == "policy")]
        t = Timing.of(took)
        out[who] = {"count": t.count, "median": t.median, "p90": t.p90,
                    "within_1h": sum(1 for s in took if s <= 3600),
                    "within_24h": sum(1 for s in took if s <= 86400)}  # fmt: skip
    return out


def _month_ids(start: datetime, end: datetime) -> Any:
    query = select(Complaint.id).where(Complaint.created_at >= start, Complaint.created_at < end, IS_COMPLAINT)
    return query.scalar_subquery()


def _promises(session: Session, r: Review, start: datetime, end: datetime) -> None:
    rows = session.execute(
        select(Promise.kept_at, Promise.missed_at).where(Promise.made_at >= start, Promise.made_at < end)
    ).all()
    r.promises = {
        "made": len(rows),
        "kept": sum(1 for kept, _ in rows if kept is not None),
        "missed": sum(1 for kept, missed in rows if kept is None and missed is not None),
        "open": sum(1 for kept, missed in rows if kept is None and missed is None),
    }


def _ratings_and_escalations(session: Session, r: Review, start: datetime, end: datetime) -> None:
    ratings: Counter[int] = Counter()
    for data in session.scalars(select(Event.data).where(Event.kind == "rated", Event.at >= start, Event.at < end)):
        value = (data or {}).get("rating")
        if isinstance(value, int) and 1 <= value <= 5:
            ratings[value] += 1
    r.ratings = {n: ratings.get(n, 0) for n in range(1, 6)}
    reasons: Counter[str] = Counter()
    query = select(Outbox.payload).where(Outbox.kind == "alert", Outbox.created_at >= start, Outbox.created_at < end)
    for payload in session.scalars(query):
        reasons[str((payload or {}).get("reason") or "other")] += 1
    r.escalations = dict(reasons.most_common())


def _causes_and_actions(session: Session, r: Review, start: datetime, end: datetime, now: datetime) -> None:
    rows = session.execute(
        select(Complaint.root_cause, Complaint.justified, func.count())
        .where(
            Complaint.created_at >= start, Complaint.created_at < end, Complaint.root_cause.is_not(None), IS_COMPLAINT
        )
        .group_by(Complaint.root_cause, Complaint.justified)
    ).all()
    causes: dict[str, dict[str, Any]] = {}
    for cause, justified, n in rows:
        entry = causes.setdefault(str(cause), {"cause": str(cause), "complaints": 0, "justified": 0})
        entry["complaints"] += n
        entry["justified"] += n if justified else 0
    r.causes = sorted(causes.values(), key=lambda c: (-c["complaints"], c["cause"]))
    actions = list(session.scalars(select(Action).order_by(Action.id)))
    covered = dict(
        session.execute(select(ActionComplaint.action_id, func.count()).group_by(ActionComplaint.action_id)).all()
    )
    until = min(end, now)
    opened = [a for a in actions if start <= a.created_at < end]
    done = [a for a in actions if a.done_at is not None and start <= a.done_at < end]
    overdue = [a for a in actions if a.status == "open" and a.due is not None and a.due < until]
    r.actions = {"opened": len(opened), "done": len(done), "overdue": len(overdue)}
    shown = {a.id: a for a in [*opened, *done, *overdue]}
    r.action_list = [
        {
            "id": a.id,
            "title": a.title,
            "cause": a.cause,
            "owner": a.owner,
            "due": a.due.isoformat() if a.due else None,
            "status": "overdue" if a in overdue else a.status,
            "complaints": covered.get(a.id, 0),
        }
        for a in sorted(shown.values(), key=lambda a: a.id)
    ]
