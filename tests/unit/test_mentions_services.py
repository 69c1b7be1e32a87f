"""The mentions lane's use cases on the fake unit of work: each press opens at most one case,
labels the mention, and answers a question with the FAQ entry chosen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.inbox import Staff
from services.mentions import MentionDesk, Writers
from storage.tables import FaqEntry, Mention
from tests.fakes import FakeStore, FakeUnitOfWork

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
SEEN = NOW - timedelta(hours=5)
ANNA = Staff(111, "Anna")


def _desk(store: FakeStore) -> MentionDesk:
    writers = Writers(
        complaint=lambda triage, raw, token: f"sorry {raw.author}",
        thanks=lambda lang, token, author: f"thanks {lang}",
        answer=lambda lang, token, author, answer: f"answer: {answer or 'write to us privately'}",
    )
    return MentionDesk(lambda: FakeUnitOfWork(store), writers, first_response=timedelta(hours=1),
                       publisher_of=lambda source: "telegram", clock=lambda: NOW)  # fmt: skip


def _mention(store: FakeStore, text: str, kind: str) -> int:
    mid = next(store.ids)
    store.mentions[mid] = Mention(id=mid, source="grp", external_id=str(mid), text=text, author="Carol",
                                  language="en", kind=kind, flags=[], severity="low", category="other",
                                  fetched_at=SEEN, triage={"unsure": kind == "other"}, lane="open")  # fmt: skip
    return mid


def test_each_press_opens_one_case_and_labels_the_mention() -> None:
    store = FakeStore()
    desk = _desk(store)
    other = _mention(store, "the locker stays shut", "other")
    first = desk.act(other, "c", ANNA, 1)
    assert first.notice == "promoted" and first.changed and first.case_id is not None
    c = store.complaints[first.case_id]
    assert c.kind == "complaint" and c.created_at == SEEN and c.first_response_due == SEEN + timedelta(hours=1)
    assert c.severity == "normal" and store.drafts[-1].text == "sorry Carol"
    again = desk.act(other, "i", ANNA, 2)
    assert again.notice == "already_done" and not again.changed and again.case_id == first.case_id
    assert desk.act(other, "c", ANNA, 1).notice == "already_done"  # a redelivered update
    assert desk.promote(other, Staff(0, "cli")) == (first.case_id, "complaint")
    assert store.labels[other].complaint and store.labels[other].origin == "promote"
    assert desk.act(999, "c", ANNA, 3).notice == "unknown_mention"
    assert desk.act(other, "zz", ANNA, 4).notice == "unknown_action"


def test_answers_use_the_chosen_faq_entry_and_ignored_mentions_can_still_be_promoted() -> None:
    store = FakeStore()
    store.faq += [
        FaqEntry(id=90, language="en", question="Do you ship to Iceland?", answer="Yes, in 3 days."),
        FaqEntry(id=91, language="en", question="Do you ship to Norway and Iceland?", answer="Both, in 4 days."),
    ]
    desk = _desk(store)
    q = _mention(store, "do you ship to iceland?", "question")
    view = desk.view(q)
    assert view is not None and [eid for eid, _ in view.faq] == [90, 91]
    answered = desk.act(q, "f91", ANNA, 1)
    assert answered.notice == "answered" and store.complaints[answered.case_id].kind == "question"
    assert store.drafts[-1].text == "answer: Both, in 4 days."
    assert not store.labels[q].complaint and store.labels[q].origin == "answer"
    assert desk.promote(q, Staff(0, "cli")) == (answered.case_id, "question")
    noise = _mention(store, "saw your van", "other")
    assert desk.act(noise, "i", ANNA, 2).notice == "ignored" and store.mentions[noise].lane == "ignored"
    promoted = desk.promote(noise, Staff(0, "cli"))
    assert promoted is not None and promoted[1] == "complaint" and store.labels[noise].complaint
    praise = _mention(store, "lovely coat", "praise")
    thanked = desk.act(praise, "t", ANNA, 3)
    assert store.complaints[thanked.case_id].kind == "praise" and store.drafts[-1].text == "thanks en"


def test_an_answer_is_due_from_the_press_and_a_rejected_complaint_can_be_relabelled() -> None:
    store = FakeStore()
    desk = _desk(store)
    q = _mention(store, "do you ship to iceland?", "question")
    case = store.complaints[desk.act(q, "a", ANNA, 1).case_id or 0]
    assert case.created_at == NOW and case.first_response_due == NOW + timedelta(hours=1)  # not overdue at once
    other = _mention(store, "the locker stays shut", "other")
    cid = desk.act(other, "c", ANNA, 2).case_id or 0
    store.complaints[cid].status = "rejected"
    FakeUnitOfWork(store).labels.put(other, False, 1.0, "reject:not_compl", "tg:111", NOW)
    assert desk.promote(other, Staff(0, "cli")) == (cid, "complaint")
    assert store.labels[other].complaint and store.labels[other].origin == "promote"


def test_a_press_that_does_not_fit_the_mention_is_refused() -> None:
    store = FakeStore()
    desk = _desk(store)
    q = _mention(store, "do you ship to iceland?", "question")
    praise = _mention(store, "lovely coat", "praise")
    assert desk.act(q, "t", ANNA, 1).notice == "not_for_this_kind"
    assert desk.act(praise, "a", ANNA, 2).notice == "not_for_this_kind"
    assert desk.act(q, "f999", ANNA, 3).notice == "unknown_faq"
    assert store.complaints == {} and store.mentions[q].lane == "open"
