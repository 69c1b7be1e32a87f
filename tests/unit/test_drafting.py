import re
from pathlib import Path

import pytest

from core.ingest import new_token
from core.model import Flag, Kind, Severity, Triage
from responders.drafting import Drafter, DraftRequest, TemplateError, greeting_name, load_templates

TEMPLATES = load_templates(["en", "ru", "da"])


def triage(
    lang: str = "en",
    category: str = "delivery",
    flags: tuple[Flag, ...] = (),
    severity: Severity = Severity.NORMAL,
) -> Triage:
    return Triage(language=lang, kind=Kind.COMPLAINT, flags=flags, severity=severity, category=category)


def drafter(**kw: object) -> Drafter:
    return Drafter("Nordlys", TEMPLATES, bot_username="nordlys_care_bot", **kw)  # type: ignore[arg-type]


def position(text: str, options: list[str]) -> int:
    found = [text.find(o.format(brand="Nordlys", link="", name="")[:25]) for o in options]
    hits = [p for p in found if p >= 0]
    assert hits, f"none of {options[:2]}... in draft"
    return hits[0]


@pytest.mark.parametrize("lang", ["en", "ru", "da"])
def test_playbook_order_in_every_language(lang: str) -> None:
    token = new_token()
    text = drafter().draft(DraftRequest(triage(lang), token, "Anna"))
    t = TEMPLATES[lang]
    order = [position(text, t[step]) for step in ("thanks", "why", "apology", "responsibility")]
    assert order == sorted(order)
    link = f"https://t.me/nordlys_care_bot?start={token}"
    assert link in text
    assert text.index(link) > order[-1]


def test_token_is_unguessable_and_fits_telegram() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for token in list(tokens)[:50]:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32,64}", token)


def test_phrasings_vary_between_complaints() -> None:
    texts = {drafter().draft(DraftRequest(triage(), new_token())) for _ in range(30)}
    assert len(texts) >= 10


def test_the_same_complaint_always_gets_the_same_draft() -> None:
    token = new_token()
    assert drafter().draft(DraftRequest(triage(), token)) == drafter().draft(DraftRequest(triage(), token))


def test_escalation_sentence_for_manager_requests() -> None:
    plain = drafter().draft(DraftRequest(triage(), "t" * 32))
    escalated = drafter().draft(DraftRequest(triage(flags=(Flag.MANAGER_REQUEST,)), "t" * 32))
    assert not any(s in plain for s in TEMPLATES["en"]["escalation"])
    assert any(s in escalated for s in TEMPLATES["en"]["escalation"])


def test_without_bot_username_it_invites_to_a_private_message() -> None:
    text = Drafter("Nordlys", TEMPLATES).draft(DraftRequest(triage(), new_token()))
    assert "t.me" not in text
    assert any(s.format(brand="Nordlys") in text for s in TEMPLATES["en"]["invitation_nolink"])


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("Anna Smith", "Anna"),
        ("Иван", "Иван"),
        ("Søren", "Søren"),
        ("mike_88", None),
        ("ANGRY CUSTOMER", None),
        ("a@b.com", None),
        (None, None),
        ("", None),
        ("J", None),
    ],
)
def test_greeting_uses_only_plain_first_names(author: str | None, expected: str | None) -> None:
    assert greeting_name(author) == expected


def test_greeting_can_be_turned_off() -> None:
    text = drafter(greet_by_name=False).draft(DraftRequest(triage(), new_token(), "Anna"))
    assert "Anna" not in text


def test_overrides_and_new_language_files(tmp_path: Path) -> None:
    over = load_templates(["en"], overrides={"en": {"signoff": ["— Anna from {brand} care"]}})
    assert Drafter("Nordlys", over).draft(DraftRequest(triage(), new_token())).endswith("— Anna from Nordlys care")
    steps = [
        'greeting = ["Hallo {name},"]',
        'greeting_anonymous = ["Hallo,"]',
        'thanks = ["Danke."]',
        'why = ["Das hilft uns."]',
        'apology = ["Entschuldigung."]',
        'responsibility = ["Wir kümmern uns."]',
        'invitation = ["Schreiben Sie uns privat: {link}"]',
        'invitation_nolink = ["Schreiben Sie uns privat."]',
        'escalation = ["Eine Leiterin meldet sich."]',
        'signoff = ["{brand}"]',
    ]
    (tmp_path / "de.toml").write_text("\n".join(steps), encoding="utf-8")
    loaded = load_templates(["de"], [tmp_path])
    text = Drafter("Nordlys", loaded, bot_username="nordlys_care_bot").draft(DraftRequest(triage("de"), "x" * 32))
    assert "Schreiben Sie uns privat: https://t.me/nordlys_care_bot?start=" in text


def test_template_mistakes_are_named() -> None:
    with pytest.raises(TemplateError, match="invitation needs"):
        load_templates(["en"], overrides={"en": {"invitation": ["write to us"]}})
    with pytest.raises(TemplateError, match="thanks must be a non-empty list"):
        load_templates(["en"], overrides={"en": {"thanks": []}})
    with pytest.raises(TemplateError, match="no reply templates"):
        load_templates(["xx"])
