"""The private conversation's state machine (responders.conversation), in every language: the
playbook's steps in order, what is skipped, what loops back, and what alerts a manager."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.model import Step
from responders.conversation import (
    Chosen,
    Confirmed,
    Context,
    Conversation,
    CustomerText,
    Event,
    OptionsProposed,
    Outcome,
    PromiseMissed,
    Rated,
    Resolved,
    Started,
    button_event,
    open_conversation,
    status,
    step,
)
from responders.conversation_words import Texts, choose_options, load_conversation_texts, parse_when, when

ZONE = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Copenhagen, a Monday
LANGS = ["en", "ru", "da"]


def ctx(lang: str, now: datetime = NOW) -> Context:
    return Context(now=now, zone=ZONE, texts=load_conversation_texts(lang), name="Emma", owner="Anna")


def run(conv: Conversation, events: list[Event], lang: str) -> tuple[Conversation, list[Outcome]]:
    outs = []
    for event in events:
        # as the journal does: the conversation goes through JSON between every two steps
        out = step(Conversation.from_json(conv.to_json()), event, ctx(lang))
        outs.append(out)
        conv = out.conversation
    return conv, outs


@pytest.mark.parametrize("lang", LANGS)
def test_the_whole_playbook_in_order(lang: str) -> None:
    conv = open_conversation(lang, "delivery", "Nordlys lost my parcel")
    assert conv.questions == ("order", "date", "what")
    events: list[Event] = [
        Started(),
        CustomerText("48213"),
        CustomerText("Monday"),
        CustomerText("The parcel never came"),
        Confirmed(yes=True),
        OptionsProposed(("Send a new coat", "Full refund")),
        Chosen(1),
        Resolved("refund of 899 kr sent"),
        Rated(5),
    ]
    conv, outs = run(conv, events, lang)
    t = load_conversation_texts(lang)
    assert conv.step is Step.CLOSED and conv.rating == 5 and conv.chosen == 1
    assert conv.answers == {"order": "48213", "date": "Monday", "what": "The parcel never came"}
    kinds = [k for out in outs for k, _ in out.events]
    assert kinds == [
        "conversation_started",
        "answered",
        "answered",
        "answered",
        "summary_shown",
        "summary_confirmed",
        "options_proposed",
        "option_chosen",
        "promise_made",
        "resolved",
        "rated",
    ]
    said = [s.text for out in outs for s in out.say]
    assert said[0] == t.t("contact.named", name="Emma")  # thanks, apology, understanding: once
    assert sum(t.t("contact.anonymous")[-20:] in s for s in said) == 1
    summary = next(s for out in outs for s in out.say if s.buttons and len(s.buttons[0]) == 2)
    assert "48213" in summary.text and "The parcel never came" in summary.text
    choice = next(s for s in outs[5].say)
    assert [row[0][1] for row in choice.buttons] == ["choosing:0", "choosing:1"]
    assert outs[6].promise == NOW + timedelta(hours=4)
    assert when(NOW + timedelta(hours=4), NOW, ZONE, t) in outs[6].say[1].text  # "by 14:00 today"
    assert "14:00" in outs[6].say[1].text
    assert outs[-1].close and not outs[-1].alert


def test_what_the_public_post_said_is_not_asked_again() -> None:
    post = "Order #557120 placed on 12.11 never arrived and nobody answers my emails or calls at all"
    conv = open_conversation("en", "delivery", post)
    assert conv.known["order"] == "557120" and conv.known["date"] == "12.11"
    assert conv.questions == ()  # "what" is the post itself
    out = step(conv, Started(), ctx("en"))
    assert out.conversation.step is Step.SUMMARY
    assert "557120" in out.say[-1].text


def test_not_quite_goes_back_to_clarify_and_the_correction_is_in_the_next_summary() -> None:
    conv = open_conversation("en", "delivery", "Order #557120 on 12.11, the box came empty, no coat inside at all ok")
    conv, outs = run(conv, [Started(), Confirmed(yes=False), CustomerText("it was a scarf, not a coat")], "en")
    assert conv.step is Step.SUMMARY and conv.corrections == ("it was a scarf, not a coat",)
    assert "it was a scarf, not a coat" in outs[-1].say[-1].text


def test_a_manager_request_at_any_step_alerts_and_names_a_time() -> None:
    conv, _ = run(open_conversation("ru", "refund", "верните деньги"), [Started()], "ru")
    out = step(conv, CustomerText("позовите руководителя", manager=True), ctx("ru"))
    assert out.alert == "manager_request" and out.promise == NOW + timedelta(hours=2)
    assert "12:00" in out.say[0].text and out.conversation.asking == conv.asking  # the question still stands


@pytest.mark.parametrize("lang", LANGS)
def test_insults_are_answered_calmly_never_quoted_and_counted(lang: str) -> None:
    conv, _ = run(open_conversation(lang, "delivery", "x"), [Started()], lang)
    out = step(conv, CustomerText("you idiots", insult=True), ctx(lang))
    said = " ".join(s.text for s in out.say)
    assert "idiots" not in said and out.conversation.insults == 1
    assert out.conversation.asking == "order"  # nothing usable: the same question again
    assert out.relay == "you idiots"  # staff still see what was written


def test_a_missed_promise_apologises_with_the_reason_and_a_new_time() -> None:
    conv = Conversation("da", "delivery", step=Step.PROMISE, promise_due=NOW.isoformat())
    later = NOW + timedelta(days=1, hours=1)
    out = step(conv, PromiseMissed("Lageret er lukket i dag.", later), ctx("da"))
    assert out.alert == "promise_missed" and out.promise == later
    assert "Lageret er lukket i dag." in out.say[0].text and "kl. 11:00 i morgen" in out.say[0].text
    default = step(conv, PromiseMissed(None, later), ctx("da"))
    assert load_conversation_texts("da").t("promise.default_reason") in default.say[0].text


def test_a_low_rating_reopens_and_alerts() -> None:
    conv = Conversation("en", "quality", step=Step.SATISFACTION)
    out = step(conv, Rated(2), ctx("en"))
    assert out.alert == "low_rating" and out.reopen and out.conversation.step is Step.SOLUTION
    assert not step(conv, Rated(9), ctx("en")).events  # not a rating


def test_a_late_press_on_an_old_button_means_nothing() -> None:
    conv = Conversation("en", "x", step=Step.SATISFACTION)
    assert button_event(conv, "choosing:1") is None  # an option pressed after the choice
    assert button_event(conv, "satisfaction:4") == Rated(4)
    assert button_event(Conversation("en", "x", step=Step.SUMMARY), "summary:no") == Confirmed(False)


def test_events_that_do_not_fit_the_step_change_nothing() -> None:
    conv = open_conversation("en", "delivery", "x")
    for event in (Confirmed(yes=True), Chosen(0), Rated(5), OptionsProposed(())):
        out = step(conv, event, ctx("en"))
        assert out.conversation == conv and not out.events


def test_status_and_times_read_naturally() -> None:
    t = load_conversation_texts("en")
    assert when(NOW + timedelta(days=4), NOW, ZONE, t) == "Friday 27.11 at 10:00"
    conv = Conversation("en", "x", step=Step.PROMISE, promise_due=(NOW + timedelta(hours=1)).isoformat())
    assert "11:00 today" in status(conv, ctx("en"))[0].text


def test_every_language_has_every_key() -> None:
    for lang in LANGS:
        assert isinstance(load_conversation_texts(lang), Texts)


def test_times_the_owner_types() -> None:
    local = NOW.astimezone(ZONE)  # 10:00 on Monday 23.11
    assert parse_when("14:30", NOW, ZONE) == local.replace(hour=14, minute=30)
    assert parse_when("09:15", NOW, ZONE) == local.replace(hour=9, minute=15) + timedelta(days=1)  # passed: tomorrow
    assert parse_when("25.11 08:00", NOW, ZONE) == local.replace(day=25, hour=8, minute=0)
    assert parse_when("2h", NOW, ZONE) == NOW + timedelta(hours=2)
    assert parse_when("45 min", NOW, ZONE) == NOW + timedelta(minutes=45)
    for bad in ("soon", "25:00", "31.02 10:00", ""):
        assert parse_when(bad, NOW, ZONE) is None


def test_only_clear_facts_count_as_already_said() -> None:
    known = open_conversation("en", "delivery", "Tracking hasn't moved since the 3rd and nobody answers").known
    assert "date" not in known and "order" not in known
    assert open_conversation("ru", "delivery", "Заказ №48213 от 2026-11-02 не пришёл").known == {
        "order": "48213",
        "date": "2026-11-02",
    }


def test_a_typed_rating_counts_and_words_after_it_are_a_comment_for_the_staff() -> None:
    conv = Conversation("en", "quality", step=Step.SATISFACTION)
    rated = step(conv, CustomerText(" 4 "), ctx("en"))
    assert rated.close and rated.conversation.rating == 4
    after = step(rated.conversation, CustomerText("Quick and kind, thanks"), ctx("en"))
    assert after.relay == "Quick and kind, thanks" and after.events == [("comment", {"after_rating": 4})]
    assert after.conversation.step is Step.CLOSED


def test_the_owner_picks_presets_by_number_or_writes_options() -> None:
    presets = ["A full refund", "A voucher"]
    assert choose_options("2, 1\n- A new coat by express\n\n", presets) == (
        "A voucher",
        "A full refund",
        "A new coat by express",
    )
    assert choose_options("3", presets) == ("3",)  # not a preset: kept as written
