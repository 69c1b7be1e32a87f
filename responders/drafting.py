"""Public reply drafts, pure: thank → why grateful → apologise → take responsibility → invite.

Phrasings live in ``responders/templates/<lang>.toml``; adding a language is adding a file.
A draft never quotes the author's text, so insults and personal data are never repeated.
"""

from __future__ import annotations

import hashlib
import random
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.datafiles import load_first_toml
from core.model import Flag, Severity, Triage

BUILTIN_DIR = Path(__file__).parent / "templates"
STEPS = ("thanks", "why", "apology", "responsibility")
REQUIRED = (
    "greeting",
    "greeting_anonymous",
    *STEPS,
    "invitation",
    "invitation_nolink",
    "escalation",
    "signoff",
)
OPTIONAL = ("follow_up",)  # without it a language gets no public follow-up proposed
# the mentions lane's thanks and answers; a language without them borrows the fallback language's
LANE = ("praise_thanks", "question_intro", "question_private", "question_private_nolink")
_NAME = re.compile(r"^[^\W\d_][^\W\d_'’-]{1,19}$")


class TemplateError(ValueError):
    """A template file or override is missing a step or uses an unknown placeholder."""


@dataclass(frozen=True, slots=True)
class DraftRequest:
    triage: Triage
    token: str
    author: str | None = None


def _check(lang: str, data: Mapping[str, Any]) -> None:
    for key in REQUIRED:
        value = data.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise TemplateError(f"templates for {lang}: {key} must be a non-empty list of phrasings")
    for phrasing in data["invitation"]:
        if "{link}" not in phrasing:
            raise TemplateError(f"templates for {lang}: every invitation needs {{link}}: {phrasing!r}")
    for key in (*OPTIONAL, *LANE):
        value = data.get(key)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise TemplateError(f"templates for {lang}: {key} must be a list of phrasings")
    for key in (*REQUIRED, *(k for k in (*OPTIONAL, *LANE) if data.get(k))):
        for phrasing in data[key]:
            try:
                phrasing.format(brand="", name="", link="")
            except (KeyError, IndexError, ValueError) as exc:
                raise TemplateError(f"templates for {lang}.{key}: bad placeholder in {phrasing!r}") from exc


def load_templates(
    languages: Iterable[str],
    extra_dirs: Iterable[Path] = (),
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Templates per language; a file in a later directory replaces the built-in one,
    and ``overrides`` (from config) replace single lists."""
    dirs = [BUILTIN_DIR, *extra_dirs]
    out: dict[str, dict[str, Any]] = {}
    for lang in languages:
        try:
            found = load_first_toml(f"{lang}.toml", dirs)
        except tomllib.TOMLDecodeError as exc:
            raise TemplateError(f"reply templates {lang}.toml: {exc}") from exc
        data = found[0] if found else None
        if data is None:
            raise TemplateError(f"no reply templates for language {lang!r} (looked for {lang}.toml)")
        for key, value in (overrides or {}).get(lang, {}).items():
            if key == "category" and isinstance(value, Mapping):
                data["category"] = {**data.get("category", {}), **value}
            else:
                data[key] = value
        _check(lang, data)
        out[lang] = data
    return out


def greeting_name(author: str | None) -> str | None:
    """A first name fit to greet with, or None (handles, e-mails and odd strings are skipped)."""
    if not author:
        return None
    first = author.strip().split()[0] if author.strip() else ""
    if not _NAME.match(first) or not first[0].isupper() or not first[1:].islower():
        return None
    return first


class Drafter:
    """Writes public reply drafts in the complaint's language."""

    def __init__(
        self,
        brand: str,
        templates: Mapping[str, Mapping[str, Any]],
        *,
        bot_username: str | None = None,
        greet_by_name: bool = True,
        fallback_language: str = "en",
    ) -> None:
        self.brand = brand
        self.templates = templates
        self.bot_username = bot_username
        self.greet_by_name = greet_by_name
        self.fallback = fallback_language if fallback_language in templates else next(iter(templates))

    def private_link(self, token: str) -> str | None:
        return f"https://t.me/{self.bot_username}?start={token}" if self.bot_username else None

    def draft(self, req: DraftRequest) -> str:
        t = self.templates.get(req.triage.language) or self.templates[self.fallback]
        seed = int.from_bytes(hashlib.sha256(req.token.encode()).digest()[:8], "big")
        rng = random.Random(seed)

        def pick(options: Sequence[str], **extra: str) -> str:
            return rng.choice(list(options)).format(brand=self.brand, **extra)

        name = greeting_name(req.author) if self.greet_by_name else None
        parts = [pick(t["greeting"], name=name) if name else pick(t["greeting_anonymous"])]
        parts += [pick(t["thanks"]), pick(t["why"]), pick(t["apology"])]
        category = t.get("category", {}).get(req.triage.category)
        if category:
            parts.append(pick(category))
        parts.append(pick(t["responsibility"]))
        escalate = (
            Flag.MANAGER_REQUEST in req.triage.flags
            or Flag.LEGAL_THREAT in req.triage.flags
            or req.triage.severity is Severity.CRITICAL
        )
        if escalate:
            parts.append(pick(t["escalation"]))
        link = self.private_link(req.token)
        parts.append(pick(t["invitation"], link=link) if link else pick(t["invitation_nolink"]))
        return " ".join(parts[:1]) + "\n\n" + " ".join(parts[1:]) + "\n\n" + pick(t["signoff"])

    def _lane(self, language: str, key: str) -> Mapping[str, Any]:
        t = self.templates.get(language)
        return t if t is not None and t.get(key) else self.templates[self.fallback]

    def _short(self, t: Mapping[str, Any], token: str, author: str | None, body: str) -> str:
        rng = random.Random(int.from_bytes(hashlib.sha256(b"lane:" + token.encode()).digest()[:8], "big"))
        name = greeting_name(author) if self.greet_by_name else None
        greeting = rng.choice(t["greeting"]).format(name=name) if name else rng.choice(t["greeting_anonymous"])
        return f"{greeting}\n\n{body}\n\n{rng.choice(t['signoff']).format(brand=self.brand)}"

    def thanks(self, language: str, token: str, author: str | None = None) -> str:
        """A short public thank-you for praise, in the author's language."""
        t = self._lane(language, "praise_thanks")
        rng = random.Random(int.from_bytes(hashlib.sha256(b"thanks:" + token.encode()).digest()[:8], "big"))
        return self._short(t, token, author, rng.choice(t["praise_thanks"]).format(brand=self.brand))

    def answer(self, language: str, token: str, author: str | None = None, answer: str | None = None) -> str:
        """A public answer to a question: the team's answer (an FAQ entry) when there is one, else
        an invitation to the private chat, where the details can be asked."""
        rng = random.Random(int.from_bytes(hashlib.sha256(b"answer:" + token.encode()).digest()[:8], "big"))
        if answer:
            t = self._lane(language, "question_intro")
            return self._short(t, token, author, f"{rng.choice(t['question_intro'])} {answer.strip()}")
        t = self._lane(language, "question_private")
        link = self.private_link(token)
        body = rng.choice(t["question_private"]).format(link=link) if link else rng.choice(t["question_private_nolink"])
        return self._short(t, token, author, body)

    def follow_up(self, language: str, token: str, author: str | None = None) -> str | None:
        """The short public note on the same thread once the customer is satisfied: sorted out
        privately, thank you for your patience. Nothing about the case itself. None when the
        language has no follow-up phrasings (a public note in another language would be worse)."""
        t = self.templates.get(language)
        if t is None or not t.get("follow_up"):
            return None
        rng = random.Random(int.from_bytes(hashlib.sha256(b"follow-up:" + token.encode()).digest()[:8], "big"))

        def pick(options: Sequence[str], **extra: str) -> str:
            return rng.choice(list(options)).format(brand=self.brand, **extra)

        name = greeting_name(author) if self.greet_by_name else None
        greeting = pick(t["greeting"], name=name) if name else pick(t["greeting_anonymous"])
        return f"{greeting}\n\n{pick(t['follow_up'])}\n\n{pick(t['signoff'])}"
