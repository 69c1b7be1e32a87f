"""The staff-action rules (core.inbox.decide): pure, so every status and action is checked here."""

from __future__ import annotations

import pytest

from core.inbox import MAX_DRAFT, Action, RejectReason, Staff, State, check_draft, decide
from core.lifecycle import Status as S

ANNA, BOB = Staff(1, "Anna"), Staff(2, "Bob")


def test_take_sets_the_owner_and_a_second_take_asks_to_confirm_the_hand_over() -> None:
    d = decide(State(S.DRAFT_READY, None), Action.TAKE, ANNA)
    assert d.changed and d.owner == ANNA and d.events[0][0] == "owner_set"
    again = decide(State(S.DRAFT_READY, ANNA.id, "Anna"), Action.TAKE, ANNA)
    assert not again.changed and again.notice == "already_yours"
    other = decide(State(S.DRAFT_READY, ANNA.id, "Anna"), Action.TAKE, BOB)
    assert not other.changed and other.ask == "confirm_take"
    confirmed = decide(State(S.DRAFT_READY, ANNA.id, "Anna"), Action.TAKE_CONFIRM, BOB)
    assert confirmed.owner == BOB and confirmed.events == [
        ("owner_changed", {"owner": BOB.id, "name": "Bob", "previous": ANNA.id})
    ]


def test_approve_publishes_once_and_makes_the_approver_owner_when_nobody_is() -> None:
    d = decide(State(S.DRAFT_READY, None), Action.APPROVE, ANNA)
    assert d.publish and d.status is S.APPROVED and d.owner == ANNA
    kept = decide(State(S.DRAFT_READY, BOB.id, "Bob"), Action.APPROVE, ANNA)
    assert kept.owner is None  # Bob stays the customer's single contact
    for status in (S.APPROVED, S.AWAITING_POST, S.PUBLISHED, S.REJECTED, S.PUBLISH_UNCONFIRMED):
        twice = decide(State(status, ANNA.id), Action.APPROVE, ANNA)
        assert not twice.changed and not twice.publish, status


def test_posted_only_while_awaiting_a_manual_post() -> None:
    assert decide(State(S.AWAITING_POST, 1), Action.POSTED, ANNA).status is S.PUBLISHED
    assert not decide(State(S.DRAFT_READY, 1), Action.POSTED, ANNA).changed
    assert not decide(State(S.PUBLISHED, 1), Action.POSTED, ANNA).changed


def test_an_unconfirmed_send_is_either_confirmed_or_sent_again_by_a_person() -> None:
    state = State(S.PUBLISH_UNCONFIRMED, 1, publisher="telegram")
    assert decide(state, Action.CONFIRM_POSTED, ANNA).status is S.PUBLISHED
    again = decide(state, Action.REPOST, ANNA)
    assert again.publish and again.status is S.APPROVED
    assert not decide(State(S.APPROVED, 1), Action.REPOST, ANNA).changed


def test_reject_needs_a_known_reason_and_other_needs_words() -> None:
    state = State(S.DRAFT_READY, None)
    assert decide(state, Action.REJECT, ANNA).ask == "reject_reason"
    assert decide(state, Action.REJECT_AS, ANNA, "bogus").ask == "reject_reason"
    assert decide(state, Action.REJECT_AS, ANNA, "other").ask == "reject_text"
    assert decide(state, Action.REJECT_AS, ANNA, "other:   ").ask == "reject_text"
    spam = decide(state, Action.REJECT_AS, ANNA, RejectReason.SPAM.value)
    assert spam.status is S.REJECTED and spam.reject_reason == "spam"
    other = decide(state, Action.REJECT_AS, ANNA, "other:a test post")
    assert other.events[0][1]["note"] == "a test post"
    assert not decide(State(S.PUBLISHED, 1), Action.REJECT_AS, ANNA, "spam").changed


@pytest.mark.parametrize("action", list(Action))
def test_no_action_changes_a_published_complaint_except_a_hand_over(action: Action) -> None:
    d = decide(State(S.PUBLISHED, ANNA.id, "Anna"), action, BOB, "spam")
    if action is Action.TAKE_CONFIRM:
        assert d.owner == BOB
    elif action is Action.CANCEL:
        assert d.status is None and d.owner is None  # only redraws the card
    else:
        assert d.status is None and not d.publish


def test_drafts_staff_write_are_checked() -> None:
    assert check_draft("   ") == "edit_empty"
    assert check_draft("x" * (MAX_DRAFT + 1)) == "edit_too_long"
    assert check_draft("Thank you") is None


def test_the_event_log_tells_telegram_users_from_dashboard_logins() -> None:
    assert Staff(111, "Anna").actor == "tg:111"
    assert Staff(-3, "anna").actor == "web:3"
