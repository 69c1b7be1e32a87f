"""The mentions lane: the team sees the mentions that are not complaints but deserve a look
(questions, praise, and those triage is unsure about) and acts on each in one tap.

- **It's a complaint** (``promote``): the mention becomes a complaint with a draft and a card,
  its first-response clock counted from when it was seen; the label says triage missed it.
- **Answer** (questions): a case whose draft is the best-matching FAQ entry's answer, or an
  invitation to the private chat; approved and published like any reply.
- **Thank** (praise): a case whose draft is a short thanks in the author's language.
- **Ignore**: nothing more happens; the label says it is not a complaint.

A mention gets one case: a second press (or ``reclaim mentions promote`` twice) changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.faq_match import best
from core.inbox import Staff
from core.ingest import new_token, plan_case
from core.model import Flag, Kind, RawMention, Severity, Triage
from core.ports import LaneApplied, MentionView
from storage.tables import Complaint, Mention
from storage.uow import UnitOfWork

ACTIONS = {"c": "promoted", "a": "answered", "t": "thanked", "i": "ignored"}
LABELS = {"promoted": "promote", "answered": "answer", "thanked": "thank", "ignored": "ignore"}
_KINDS = {"promoted": Kind.COMPLAINT, "answered": Kind.QUESTION, "thanked": Kind.PRAISE}


@dataclass(frozen=True, slots=True)
class Writers:
    """How the lane's cases get their drafts (responders/drafting.py's Drafter)."""

    complaint: Callable[[Triage, RawMention, str], str]
    thanks: Callable[[str, str, str | None], str]
    answer: Callable[[str, str, str | None, str | None], str]


def _triage(m: Mention, kind: Kind) -> Triage:
    """The mention's triage as the case needs it: a promoted mention is a complaint of at least
    normal severity (triage gave it none)."""
    severity = Severity(m.severity) if kind is Kind.COMPLAINT and m.severity != Severity.LOW.value else Severity.LOW
    if kind is Kind.COMPLAINT and severity is Severity.LOW:
        severity = Severity.NORMAL
    flags = tuple(Flag(f) for f in m.flags or () if f in Flag._value2member_map_)
    return Triage(language=m.language, kind=kind, flags=flags, severity=severity, category=m.category)


def _raw(m: Mention) -> RawMention:
    return RawMention(external_id=m.external_id, text=m.text, url=m.url, author=m.author, title=m.title,
                      rating=m.rating, origin=m.origin)  # fmt: skip


class MentionDesk:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        writers: Writers,
        *,
        first_response: timedelta,
        publisher_of: Callable[[str], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.uow, self.writers, self.first_response = uow, writers, first_response
        self.publisher_of, self.clock = publisher_of, clock

    def act(self, mention_id: int, action: str, who: Staff, update_id: int | None) -> LaneApplied:
        """A press on a mention's card: c (It's a complaint), a (Answer: the best FAQ entry, or an
        invitation to the private chat), f<id> (Answer with that FAQ entry), t (Thank), i (Ignore)."""
        entry = int(action[1:]) if action[:1] == "f" and action[1:].isdigit() and len(action) < 12 else None
        outcome = "answered" if entry is not None else ACTIONS.get(action)
        if outcome is None:
            return LaneApplied("unknown_action")
        now = self.clock()
        with self.uow() as uow:
            if not uow.updates.first_time(update_id, now):
                return LaneApplied("already_done")
            m = uow.complaints.mention(mention_id, lock=True)
            if m is None:
                return LaneApplied("unknown_mention")
            case = uow.complaints.of_mention(mention_id)
            if case is not None or m.lane not in (None, "open"):
                return LaneApplied("already_done", case.id if case else None, False, self._view(uow, m, case))
            refused = self._refusal(uow, m, action, entry)
            if refused is not None:
                return LaneApplied(refused, None, False, self._view(uow, m, None))
            case_id = None
            if outcome in _KINDS:
                case_id = self._open(uow, m, _KINDS[outcome], who.actor, now, entry)
            m.lane, m.lane_by, m.lane_at = outcome, who.name[:64], now
            uow.labels.put(m.id, outcome == "promoted", 1.0, LABELS[outcome], who.actor, now)
            return LaneApplied(outcome, case_id, True, self._view(uow, m, uow.complaints.of_mention(m.id)))

    @staticmethod
    def _refusal(uow: UnitOfWork, m: Mention, action: str, entry: int | None) -> str | None:
        """Why a press does not apply to this mention: Answer is for questions, Thank for praise,
        and an FAQ entry must exist."""
        if action[:1] in ("a", "f") and m.kind != Kind.QUESTION.value:
            return "not_for_this_kind"
        if action == "t" and m.kind != Kind.PRAISE.value:
            return "not_for_this_kind"
        if entry is not None and all(e.id != entry for e in uow.faq.entries(None)):
            return "unknown_faq"
        return None

    def promote(self, mention_id: int, who: Staff) -> tuple[int, str] | None:
        """`reclaim mentions promote`: the complaint's id and kind (the case there already, if
        any: a complaint, or the answer or thanks opened before); None when there is no mention."""
        now = self.clock()
        with self.uow() as uow:  # ignored before: made a complaint now all the same
            m = uow.complaints.mention(mention_id, lock=True)
            if m is None:
                return None
            case = uow.complaints.of_mention(mention_id)
            if case is not None:
                if case.kind == Kind.COMPLAINT.value and case.status == "rejected":
                    # rejected as not a complaint, and now called one: the label says so (the
                    # complaint stays rejected: a finished case is not reopened)
                    uow.labels.put(m.id, True, 1.0, "promote", who.actor, now)
                return case.id, case.kind
            m.lane, m.lane_by, m.lane_at = "promoted", who.name[:64], now
            uow.labels.put(m.id, True, 1.0, "promote", who.actor, now)
            return self._open(uow, m, Kind.COMPLAINT, who.actor, now), Kind.COMPLAINT.value

    def _open(
        self, uow: UnitOfWork, m: Mention, kind: Kind, actor: str, now: datetime, entry: int | None = None
    ) -> int:
        token = new_token()
        triage = _triage(m, kind)
        if kind is Kind.COMPLAINT:
            text = self.writers.complaint(triage, _raw(m), token)
        elif kind is Kind.PRAISE:
            text = self.writers.thanks(m.language, token, m.author)
        else:
            text = self.writers.answer(m.language, token, m.author, self._faq_answer(uow, m, entry))
        # a missed complaint was due from when it was seen; an answer or a thanks from the press
        since = m.fetched_at if kind is Kind.COMPLAINT else now
        plan = plan_case(m.id, kind, triage, draft_text=text, token=token, publisher=self.publisher_of(m.source),
                         source=m.source, detected_at=since, first_response=self.first_response,
                         actor=actor)  # fmt: skip
        return uow.complaints.open_case(plan, now)

    @staticmethod
    def _faq_matches(uow: UnitOfWork, m: Mention) -> list[tuple[int, str, str]]:
        entries = uow.faq.entries(m.language)
        ranked = best(m.text, [(e.id, e.question) for e in entries])
        by_id = {e.id: e for e in entries}
        return [(eid, by_id[eid].question, by_id[eid].answer) for eid, _ in ranked]

    def _faq_answer(self, uow: UnitOfWork, m: Mention, entry: int | None) -> str | None:
        """The chosen FAQ entry's answer (any language's: the team chose it), else the best match's."""
        if entry is not None:
            chosen = next((e for e in uow.faq.entries(None) if e.id == entry), None)
            return chosen.answer if chosen is not None else None
        matches = self._faq_matches(uow, m)
        return matches[0][2] if matches else None

    def view(self, mention_id: int) -> MentionView | None:
        with self.uow() as uow:
            m = uow.complaints.mention(mention_id)
            return None if m is None else self._view(uow, m, uow.complaints.of_mention(mention_id))

    def _view(self, uow: UnitOfWork, m: Mention, case: Complaint | None) -> MentionView:
        triage = m.triage if isinstance(m.triage, dict) else {}
        p = triage.get("p_complaint")
        p = float(p) if isinstance(p, int | float) and not isinstance(p, bool) and 0 <= p <= 1 else None
        faq = tuple((eid, q) for eid, q, _ in self._faq_matches(uow, m)) if m.kind == Kind.QUESTION.value else ()
        return MentionView(
            id=m.id, source=m.source, url=m.url, author=m.author, title=m.title, text=m.text, language=m.language,
            kind=m.kind, unsure=bool(triage.get("unsure")), p_complaint=p,
            fetched_at=m.fetched_at, lane=m.lane, lane_by=m.lane_by, case_id=case.id if case else None, faq=faq,
        )  # fmt: skip
