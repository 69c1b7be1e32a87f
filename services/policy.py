"""Replies published by policy (``respond.auto_publish``): a complaint nobody on the team has
touched for the delay that applies gets its current draft published as if approved.

Each complaint is one transaction that locks its row and checks the rules again
(core/respond.py), so a staff press in the same moment, or another worker looking at the same
time, either wins or sees the reply queued; the outbox row's key (``publish:<id>``) holds it to
one public reply, and the dispatcher's recovery never reposts a cut-off send blindly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from core.durations import format_duration
from core.lifecycle import OPEN, Status
from core.lifecycle import Event as E
from core.respond import POLICY_ACTOR, Candidate, Policy, due
from core.respond import refusal as policy_refusal
from services.staff import queue_publish
from storage.tables import Complaint
from storage.uow import UnitOfWork

log = logging.getLogger("reclaim.policy")
EVENT = "approved_by_policy"  # the event log's record, which the card and the review read


def candidate(uow: UnitOfWork, c: Complaint, since: datetime) -> Candidate:
    """What the rules need to know of a complaint, read in this transaction (``since``: the start
    of the window in which one policy reply per author is enough)."""
    touched = uow.events.last_by_staff(c.id)
    quiet_since = max(c.created_at, touched) if touched is not None else c.created_at
    m = uow.complaints.mention(c.mention_id)
    posted = min(m.published_at, c.created_at) if m is not None and m.published_at else c.created_at
    author = m.author if m is not None else None
    return Candidate(
        kind=c.kind,
        open=Status(c.status) in OPEN,
        owner_id=c.owner_id,
        publisher=c.publisher,
        source=c.source,
        severity=c.severity,
        language=c.language,
        flags=tuple(c.flags or ()),
        has_draft=bool((d := uow.drafts.current(c.id)) and d.text.strip()),
        quiet_since=quiet_since,
        posted_at=posted,
        author_answered=bool(author) and uow.complaints.answered_by_policy(c.source or "", author or "", c.id, since),
    )


class PolicyDesk:
    """Publishes, by policy, the replies that waited long enough (the scheduler calls ``run``)."""

    def __init__(self, uow: Callable[[], UnitOfWork], policy: Policy,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:  # fmt: skip
        self.uow, self.policy, self.clock = uow, policy, clock

    def run(self, limit: int = 500) -> list[int]:
        """Queue the public reply of each complaint that is due; the ids queued."""
        now = self.clock()
        with self.uow() as uow:
            ids = uow.complaints.untaken(self.policy, now - self.policy.delay_at(now), now - self.policy.max_age, limit)
        published = []
        for complaint_id in ids:  # one transaction each: a complaint that fails holds up no other
            try:
                with self.uow() as uow:
                    if self._publish(uow, complaint_id, now):
                        published.append(complaint_id)
            except Exception:
                log.exception("publishing complaint #%d by policy failed; trying again at the next check", complaint_id)
        return published

    def refusal(self, complaint_id: int) -> str | None:
        """Why the policy will not publish this complaint's reply (None: it will, when due)."""
        with self.uow() as uow:
            c = uow.complaints.get(complaint_id)
            since = self.clock() - self.policy.max_age
            return "unknown" if c is None else policy_refusal(self.policy, candidate(uow, c, since))

    def _publish(self, uow: UnitOfWork, complaint_id: int, now: datetime) -> bool:
        c = uow.complaints.get(complaint_id, lock=True)
        if c is None:
            return False
        seen = candidate(uow, c, now - self.policy.max_age)
        if not due(self.policy, seen, now) or not c.advance(E.APPROVED, now):
            return False
        in_hours = self.policy.hours.open_at(now)
        data = {
            "after": format_duration(self.policy.delay_at(now)),
            "in_hours": in_hours,
            "quiet_since": seen.quiet_since.isoformat(),
        }
        uow.events.add(c.id, EVENT, POLICY_ACTOR, data, now)
        queue_publish(uow, c, POLICY_ACTOR, now)
        uow.cards.bump(c.id)
        log.info("complaint #%d: no staff action for %s, its reply is published by policy", c.id, data["after"])
        return True
