"""Staff cards: every piece of user text escaped, the result valid Telegram HTML (checked by the
local Bot API server's parser, written apart from the renderer) and never over 4096 characters
as Telegram counts them; buttons follow the status; callback data round-trips."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.cards import LIMIT, keyboard, parse_data, reject_keyboard, render, take_keyboard
from bot.texts import load_texts
from core.inbox import Action
from core.lifecycle import Status as S
from core.ports import CardView
from sandbox.tghtml import EntityError, parse, utf16_len

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Copenhagen")
TEXTS = load_texts("en")


def view(**changes: object) -> CardView:
    base = CardView(
        id=7,
        status=S.DRAFT_READY,
        source="community",
        url="https://example.org/t/1?a=1&b=2",
        author="Eve <b>&amp;",
        title="Order <script>alert(1)</script>",
        text="It never came & nobody answers </blockquote> <i>",
        rating=1.0,
        language="en",
        kind="complaint",
        flags=("legal_threat",),
        severity="critical",
        category="delivery",
        created_at=NOW - timedelta(minutes=10),
        due=NOW + timedelta(minutes=50),
        responded_at=None,
        draft="Dear Eve <b>,\nthank you & sorry.",
        draft_edited_by=None,
        owner_id=None,
        owner_name=None,
        publisher="manual",
        reject_reason=None,
        approved_by=None,
        published_by=None,
        publish_error=None,
        card_chat_id=None,
        card_message_id=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def visible(card: CardView) -> str:
    markup = render(card, TEXTS, NOW, ZONE)
    shown = parse(markup)  # raises EntityError where Telegram would refuse the message
    assert utf16_len(shown) <= LIMIT
    return shown


def test_user_text_is_shown_literally_never_as_markup() -> None:
    shown = visible(view())
    assert "Eve <b>&amp;" in shown
    assert "<script>alert(1)</script>" in shown
    assert "</blockquote> <i>" in shown
    assert "Dear Eve <b>," in shown
    assert "in 50 min" in shown


@pytest.mark.parametrize(
    ("text", "draft"),
    [
        ("x" * 20_000, "short"),
        ("<&>" * 5_000, "<&>" * 900),  # escaping triples the markup, not what Telegram counts
        ("😡" * 5_000, "ok"),  # two UTF-16 units each
        ("short", "😡" * 3_000),  # the longest draft staff may save, in emoji: over 4096 alone
        ("ж" * 3_000, "ж" * 3_000),
    ],
)
def test_long_text_is_cut_under_telegrams_limit(text: str, draft: str) -> None:
    shown = visible(view(text=text, draft=draft))
    assert "Complaint #7" in shown


def test_a_cut_excerpt_says_so_and_keeps_the_link_to_the_original() -> None:
    markup = render(view(text="word " * 3000), TEXTS, NOW, ZONE)
    assert 'href="https://example.org/t/1?a=1&amp;b=2"' in markup
    assert TEXTS.t("card", "cut").strip() in parse(markup)


def test_an_overdue_complaint_says_so() -> None:
    shown = visible(view(due=NOW - timedelta(hours=2, minutes=5)))
    assert "overdue" in shown.lower()


def buttons(card: CardView) -> list[str]:
    return [b.data for row in keyboard(card, TEXTS) for b in row]


def test_buttons_follow_the_status() -> None:
    assert buttons(view()) == ["c:7:ap", "c:7:ed", "c:7:rj", "c:7:tk"]
    assert buttons(view(status=S.AWAITING_POST)) == ["c:7:ps", "c:7:tk"]
    assert buttons(view(status=S.PUBLISH_UNCONFIRMED)) == ["c:7:cp", "c:7:rp", "c:7:tk"]
    assert buttons(view(status=S.PUBLISHED)) == ["c:7:tk"]
    assert buttons(view(status=S.REJECTED)) == ["c:7:tk"]


def test_every_callback_fits_telegrams_64_bytes_and_parses_back() -> None:
    cid = 2**31 - 1
    rows = keyboard(view(id=cid), TEXTS) + reject_keyboard(cid, TEXTS) + take_keyboard(cid, TEXTS)
    for button in (b for row in rows for b in row):
        assert len(button.data.encode()) <= 64
        parsed = parse_data(button.data)
        assert parsed is not None and parsed[0] == cid
    assert parse_data("c:7:rr:spam") == (7, Action.REJECT_AS, "spam")
    for junk in ("", "c", "c:x:ap", "c:7:zz", "x:7:ap"):
        assert parse_data(junk) is None


@pytest.mark.parametrize("language", ["en", "ru", "da"])
def test_every_staff_language_renders_every_status(language: str) -> None:
    texts = load_texts(language)
    for status in S:
        markup = render(view(status=status, reject_reason="other:dup of #3"), texts, NOW, ZONE)
        parse(markup)
        assert all(b.label for row in keyboard(view(status=status), texts) for b in row)


@pytest.mark.parametrize(
    "markup",
    ["<b>open", "a & b", "<b><i>x</b></i>", "<script>x</script>", '<a href="javascript:x">y</a>', "</b>"],
)
def test_the_local_server_refuses_what_telegram_refuses(markup: str) -> None:
    with pytest.raises(EntityError):
        parse(markup)


def test_the_local_server_reads_entities_like_telegram() -> None:
    assert parse("<b>a</b> &lt;&amp;&gt; &#128512; <a href='https://x.org/?a=1&amp;b'>l</a>") == "a <&> 😀 l"


def test_manager_alerts_name_the_source_the_author_and_a_masked_excerpt() -> None:
    """Before: "⚖️ Legal threat in complaint #7 (community, critical)." and the owner only."""
    from bot.dispatch import Dispatcher
    from bot.senders import alert_text
    from core.outbox import Alert, OutboxItem, OutboxKind
    from core.triage import Triager

    card = view(text="You fucking idiots lost my parcel <b>again</b>; my lawyer will sue. " + "More words. " * 40)

    class Store:
        def card(self, complaint_id: int) -> CardView:
            return card

    triager = Triager(["en", "da", "ru"])
    d = Dispatcher(None, Store(), TEXTS, -1, -1, ZONE, mask=triager.mask_profanity)  # type: ignore[arg-type]
    alert = Alert("legal_threat")
    text = alert_text(d, OutboxItem(1, "alert:7:legal_threat", OutboxKind.ALERT, 7, alert, 1), alert)
    shown = parse(text)
    assert "complaint #7 (community" in shown and "Eve <b>&amp; on community:" in shown
    assert "f****** i***** lost my parcel <b>again</b>" in shown and "fucking" not in shown
    assert "Order <script>" in shown  # the title leads the excerpt, as text
    assert len(shown) < 400  # a short excerpt, not the whole post


def test_every_outbox_kind_has_a_sender_for_its_payload() -> None:
    from bot.senders import SENDERS
    from core.outbox import PAYLOADS, OutboxKind

    assert set(SENDERS) == set(OutboxKind)
    assert all(SENDERS[kind][0] is PAYLOADS[kind] for kind in OutboxKind)
