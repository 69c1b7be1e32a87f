"""The staff's and the dispatcher's use cases (services/staff.py, services/delivery.py) on the
in-memory unit of work: what a press changes and queues, prompts answered once, causes joining
actions, and each outbox row's fate (sent, retried within bounds, refused, cut off)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.inbox import Action, Staff
from core.lifecycle import Delivery as D
from core.lifecycle import Status
from core.ports import Prompt
from services.delivery import Delivery
from services.staff import StaffInbox
from storage.tables import Action as ActionRow
from storage.tables import ConversationRow
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.unit.test_conversation_service import NOW, opened

ANNA, BOB = Staff(7, "Anna"), Staff(8, "Bob")


def desks(store: FakeStore, **kw: object) -> tuple[StaffInbox, Delivery]:
    staff = StaffInbox(lambda: FakeUnitOfWork(store), clock=lambda: NOW, causes=["late_delivery", "wrong_item"])
    delivery = Delivery(lambda: FakeUnitOfWork(store), clock=lambda: NOW, **kw)  # type: ignore[arg-type]
    return staff, delivery


def test_approve_queues_the_draft_once_and_sending_it_is_the_first_response() -> None:
    store = FakeStore()
    cid = opened(store, publisher="reddit")
    staff, delivery = desks(store)
    applied = staff.act(cid, Action.APPROVE, ANNA, None, 1)
    assert applied.changed and applied.card is not None and applied.card.owner_name == "Anna"
    assert staff.act(cid, Action.APPROVE, ANNA, None, 1).duplicate  # the same update again
    assert staff.act(cid, Action.APPROVE, BOB, None, 2).notice != "approved"  # approved already
    (row,) = [r for r in store.outbox.values() if r.kind == "publish"]
    assert row.status == D.PENDING.value and row.payload["text"] == "Thank you …"
    (item,) = delivery.claim(10)
    assert delivery.claim(10) == []  # claimed rows are not handed out twice
    delivery.sent(item, {"id": "t1_ours", "url": "https://www.reddit.com/r/x/comments/1/_/ours/"})
    c = store.complaints[cid]
    assert c.status == Status.PUBLISHED.value and c.first_response_at == NOW and c.reply_id == "t1_ours"
    assert row.status == D.DONE.value and "published" in store.kinds(cid)


def test_a_manual_reply_waits_for_a_person_and_posted_confirms_it() -> None:
    store = FakeStore()
    cid = opened(store, publisher="manual")
    staff, delivery = desks(store)
    staff.act(cid, Action.APPROVE, ANNA, None, 1)
    assert store.complaints[cid].status == Status.AWAITING_POST.value
    assert delivery.claim(10) == []  # nothing for the dispatcher: a person posts it
    staff.act(cid, Action.POSTED, ANNA, None, 2)
    assert store.complaints[cid].status == Status.PUBLISHED.value and store.complaints[cid].first_response_at == NOW
    assert store.outbox[f"publish:{cid}"].status == D.DONE.value


def test_a_prompt_is_answered_once() -> None:
    store = FakeStore()
    cid = opened(store)
    staff, _ = desks(store)
    staff.add_prompt(-100, 55, cid, ANNA.id, "edit")
    prompt = staff.find_prompt(-100, 55)
    assert prompt is not None and prompt == Prompt(prompt.id, cid, ANNA.id, "edit", False)
    assert staff.save_edit(prompt, ANNA, "Thank you, Emma. We are sorry …", 3).notice == "edit_saved"
    assert staff.save_edit(prompt, ANNA, "Another text", 4).notice == "prompt_answered"
    view = staff.card(cid)
    assert view is not None and view.draft.startswith("Thank you, Emma") and view.draft_edited_by == "Anna"
    staff.add_prompt(-100, 56, cid, ANNA.id, "reject_text")
    reason = staff.find_prompt(-100, 56)
    assert reason is not None and staff.save_edit(reason, ANNA, "a test post by our own team", 5).notice == "rejected"
    assert store.complaints[cid].status == Status.REJECTED.value


def test_a_cause_joins_the_open_action_and_alerts_once_where_a_done_fix_did_not_hold() -> None:
    store = FakeStore()
    cid = opened(store)
    store.actions += [
        ActionRow(id=90, title="New courier", cause="late_delivery", status="open"),
        ActionRow(id=91, title="Old fix", cause="late_delivery", status="done", done_at=NOW - timedelta(days=3)),
        ActionRow(id=92, title="Dropped", cause="late_delivery", status="dropped", done_at=NOW - timedelta(days=3)),
    ]
    store.complaints[cid].status = Status.CLOSED.value  # causes are recorded once it is resolved
    staff, _ = desks(store)
    assert staff.act(cid, Action.CAUSE_SET, ANNA, "0", 1).changed
    assert store.complaints[cid].root_cause == "late_delivery" and (90, cid) in store.covered
    alerts = store.queued("alert")
    assert [a["action_id"] for a in alerts] == [91]


def test_a_failing_row_is_retried_within_bounds_then_given_up_on_its_card() -> None:
    store = FakeStore()
    cid = opened(store)
    staff, delivery = desks(store, max_attempts=3)
    staff.act(cid, Action.APPROVE, ANNA, None, 1)
    for _ in range(3):
        row = store.outbox[f"publish:{cid}"]
        row.next_attempt_at = NOW
        (item,) = delivery.claim(10)
        delivery.retry(item, "Reddit answered HTTP 500", timedelta(seconds=30))
    assert row.status == D.FAILED.value and "given up after 3 attempts" in (row.last_error or "")
    assert "send_failed" in store.kinds(cid)
    assert delivery.next_due() is None


def test_a_reply_cut_off_mid_send_is_never_sent_again_blindly() -> None:
    store = FakeStore()
    cid, other = opened(store, "tok-1", publisher="reddit"), opened(store, "tok-2", publisher="telegram")
    staff, delivery = desks(store)
    staff.act(cid, Action.APPROVE, ANNA, None, 1)
    staff.act(other, Action.APPROVE, ANNA, None, 2)
    assert len(delivery.claim(10)) == 2  # both sending when the process stopped
    assert delivery.recover(checkable=frozenset({"reddit"})) == 2
    assert store.outbox[f"publish:{cid}"].status == D.PENDING.value  # Reddit is looked at before a repost
    assert store.complaints[other].status == Status.PUBLISH_UNCONFIRMED.value  # a person checks this one
    (item,) = delivery.claim(10)
    delivery.refused(item, "Reddit: the thread is locked (THREAD_LOCKED)")
    assert store.complaints[cid].status == Status.AWAITING_POST.value and "publish_refused" in store.kinds(cid)


def test_cards_are_due_until_drawn_and_a_version_never_goes_back() -> None:
    store = FakeStore()
    cid = opened(store)
    staff, delivery = desks(store)
    staff.act(cid, Action.TAKE, ANNA, None, 1)
    ((due_id, version),) = delivery.due_cards(10)
    assert due_id == cid and version == 2
    delivery.card_sent(cid, version, -100, 77)
    assert delivery.due_cards(10) == [] and store.complaints[cid].card_message_id == 77
    delivery.cards_drawn({cid: 1})  # a slow, older redraw
    assert store.drawn[cid] == 2
    assert datetime.now(UTC) > NOW


def test_a_row_queued_again_by_staff_gets_a_fresh_give_up_clock() -> None:
    """Before: `reclaim outbox retry` after a day-long outage failed the row again on its first
    passing error ("given up after 1 day"), since the clock ran from when it was first queued."""
    store = FakeStore()
    cid = opened(store)
    staff, delivery = desks(store, give_up_after=timedelta(hours=1))
    staff.act(cid, Action.APPROVE, ANNA, None, 1)
    row = store.outbox[f"publish:{cid}"]
    row.created_at = NOW - timedelta(days=1)  # queued yesterday; Reddit was down since
    (item,) = delivery.claim(10)
    delivery.retry(item, "Reddit could not be reached", timedelta(seconds=30), transient=True)
    assert row.status == D.FAILED.value
    assert delivery.requeue([row.id], "cli") == 1
    (item,) = delivery.claim(10)
    delivery.retry(item, "Reddit could not be reached", timedelta(seconds=30), transient=True)
    assert row.status == D.PENDING.value  # tried again within the hour, not given up at once


def _published(store: FakeStore, delivery: Delivery, staff: StaffInbox, token: str = "tok-1") -> int:
    cid = opened(store, token, publisher="reddit")
    staff.act(cid, Action.APPROVE, ANNA, None, hash(token) % 1000)
    (item,) = delivery.claim(10)
    delivery.sent(item, {"id": "t1_ours", "url": "https://www.reddit.com/r/x/comments/1/_/ours/"})
    return cid


def test_the_owner_withdraws_our_published_reply_and_a_new_approval_posts_again() -> None:
    store = FakeStore()
    staff, delivery = desks(store)
    cid = _published(store, delivery, staff)
    assert staff.act(cid, Action.WITHDRAW, BOB, None, 10).notice == "withdraw_owner_only"  # Anna owns it
    asked = staff.act(cid, Action.WITHDRAW, ANNA, None, 11)
    assert asked.ask == "confirm_withdraw" and not asked.changed
    assert staff.act(cid, Action.WITHDRAW_CONFIRM, ANNA, None, 12).notice == "withdrawing"
    (item,) = delivery.claim(10)
    assert item.key == f"withdraw:{cid}:t1_ours" and item.payload.text is None  # type: ignore[union-attr]
    delivery.sent(item, {"deleted": True})
    c = store.complaints[cid]
    assert c.status == Status.DRAFT_READY.value and c.reply_id is None and c.first_response_at is None  # SLA again
    assert "reply_withdrawn" in store.kinds(cid) and f"publish:{cid}" not in store.outbox
    staff.act(cid, Action.APPROVE, ANNA, None, 13)
    (again,) = delivery.claim(10)
    assert again.key == f"publish:{cid}" and again.attempts == 1  # a fresh row for the new reply


def test_an_edited_reply_shows_on_the_card_once_the_place_has_it_and_a_refusal_changes_nothing() -> None:
    store = FakeStore()
    staff, delivery = desks(store)
    cid = _published(store, delivery, staff)
    assert staff.act(cid, Action.REPLY_EDIT, BOB, None, 20).ask == "reply_edit_text"  # anyone may edit
    staff.add_prompt(-100, 70, cid, BOB.id, "reply_edit_text")
    prompt = staff.find_prompt(-100, 70)
    assert prompt is not None
    assert (
        staff.save_edit(prompt, BOB, "Thank you, Emma: sorted, see the private chat.", 21).notice == "reply_edit_queued"
    )
    assert staff.card(cid).draft == "Thank you …"  # type: ignore[union-attr]  # not out yet
    (item,) = delivery.claim(10)
    delivery.sent(item, {"edited": True})
    assert staff.card(cid).draft == "Thank you, Emma: sorted, see the private chat."  # type: ignore[union-attr]
    assert store.complaints[cid].status == Status.PUBLISHED.value and "reply_edited" in store.kinds(cid)
    staff.add_prompt(-100, 71, cid, BOB.id, "reply_edit_text")
    second = staff.find_prompt(-100, 71)
    assert second is not None
    staff.save_edit(second, BOB, "Another text", 22)
    (item,) = delivery.claim(10)
    delivery.refused(item, "Reddit: the post or comment was deleted (DELETED_COMMENT)")
    assert store.complaints[cid].status == Status.PUBLISHED.value  # our reply stays as it was
    assert "amend_refused" in store.kinds(cid)
    assert staff.card(cid).draft == "Thank you, Emma: sorted, see the private chat."  # type: ignore[union-attr]


def test_a_manual_reply_cannot_be_edited_or_withdrawn_from_here() -> None:
    store = FakeStore()
    cid = opened(store, publisher="manual")
    staff, _ = desks(store)
    staff.act(cid, Action.APPROVE, ANNA, None, 1)
    staff.act(cid, Action.POSTED, ANNA, None, 2)
    assert staff.act(cid, Action.REPLY_EDIT, ANNA, None, 3).notice == "amend_not_possible"
    assert staff.act(cid, Action.WITHDRAW, ANNA, None, 4).notice == "amend_not_possible"


def test_a_withdrawal_waiting_when_the_customer_opens_the_link_is_not_sent() -> None:
    store = FakeStore()
    staff, delivery = desks(store)
    cid = _published(store, delivery, staff)
    assert staff.act(cid, Action.WITHDRAW_CONFIRM, ANNA, None, 30).notice == "withdrawing"
    store.conversations[cid] = ConversationRow(complaint_id=cid, customer_id=501, chat_id=501, state={}, step="clarify")
    assert delivery.claim(10) == []  # the link they followed is in that reply
    assert store.complaints[cid].status == Status.PUBLISHED.value and "withdraw_cancelled" in store.kinds(cid)
    assert store.outbox[f"withdraw:{cid}:t1_ours"].status == D.CANCELLED.value
