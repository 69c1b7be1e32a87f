"""Ingest and the time-driven alerts (services/ingest.py, services/alerts.py) on the in-memory
unit of work: items recorded once, the source's health and backoff, alerts raised once."""

from __future__ import annotations

from datetime import timedelta

from core.model import Flag, Kind, RawMention, Severity, Triage
from services.alerts import raise_deadline_alerts, raise_spike_alert
from services.ingest import Health, record_failure, record_poll
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.unit.test_conversation_service import NOW, opened

COMPLAINT = Triage("en", Kind.COMPLAINT, (Flag.LEGAL_THREAT,), Severity.HIGH, "delivery")
PRAISE = Triage("en", Kind.PRAISE, (), Severity.LOW, "general")
KEPT = [
    (RawMention("a1", "Nordlys lost my parcel, my lawyer will hear of it"), COMPLAINT),
    (RawMention("a2", "Nordlys is lovely"), PRAISE),
]


def poll(store: FakeStore, kept: list[tuple[RawMention, Triage]], status: int = 200) -> tuple[int, int]:
    health = Health(status, len(kept), ["one odd item"] if kept else [], etag='"v1"')
    with FakeUnitOfWork(store) as uow:
        r = record_poll(uow, "blog", "manual", kept, health, draft=lambda t, raw, token: f"Sorry ({token})",
                        first_response=timedelta(hours=1), now=NOW)  # fmt: skip
    return r.mentions_added, r.complaints_opened


def test_a_poll_records_new_items_once_with_the_sources_health() -> None:
    store = FakeStore()
    assert poll(store, KEPT) == (2, 1)
    assert poll(store, KEPT) == (0, 0)  # seen before: nothing twice
    (c,) = store.complaints.values()
    assert c.first_response_due == NOW + timedelta(hours=1) and c.publisher == "manual" and c.source == "blog"
    assert store.queued("alert") == [{"reason": "legal_threat"}]  # managers hear of it at once
    state = store.sources["blog"]
    assert state.items_seen == 4 and state.mentions_added == 2 and state.etag == '"v1"'
    assert state.last_warning == "one odd item" and state.consecutive_failures == 0


def test_failures_back_off_doubling_up_to_the_cap_and_a_success_clears_them() -> None:
    store = FakeStore()
    delays = []
    for _ in range(6):
        with FakeUnitOfWork(store) as uow:
            delays.append(record_failure(uow, "blog", "HTTP 503", 503, base=timedelta(seconds=30),
                                         cap=timedelta(minutes=5), now=NOW))  # fmt: skip
    assert [d.total_seconds() for d in delays] == [30, 60, 120, 240, 300, 300]
    assert store.sources["blog"].next_attempt_at == NOW + timedelta(minutes=5)
    poll(store, [], status=304)
    state = store.sources["blog"]
    assert state.consecutive_failures == 0 and state.next_attempt_at is None and state.etag is None


def test_a_missed_deadline_and_a_spike_alert_once() -> None:
    store = FakeStore()
    first = opened(store, "tok-1")
    for n in range(2, 5):
        opened(store, f"tok-{n}")
    late = NOW + timedelta(hours=2)
    with FakeUnitOfWork(store) as uow:
        assert raise_deadline_alerts(uow, late) == 4
        assert raise_deadline_alerts(uow, late) == 0
        assert raise_spike_alert(uow, late, count=3, window=timedelta(hours=3))
        assert not raise_spike_alert(uow, late + timedelta(minutes=1), count=3, window=timedelta(hours=3))
        assert not raise_spike_alert(uow, late, count=4, window=timedelta(hours=3))
    assert "deadline_missed" in store.kinds(first)
    assert [a["count"] for a in store.queued("alert") if a["reason"] == "spike"] == [4]
