"""The private conversation's words and times: the texts of a language
(``responders/conversation/<lang>.toml``, every key of the English file required), concrete
local times as the customer reads them, and what the owner types (options, a time)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from core.catalog import Catalog, load_catalog

BUILTIN_DIR = Path(__file__).parent / "conversation"


Texts = Catalog  # the conversation's words: looked up as t("contact.named", name=…)


def load_conversation_texts(language: str, extra_dirs: Sequence[Path] = ()) -> Texts:
    """The conversation words for ``language``; every key of the English file must be there."""
    return load_catalog("conversation texts", language, BUILTIN_DIR, extra_dirs)


def when(moment: datetime, now: datetime, zone: ZoneInfo, texts: Texts) -> str:
    """A concrete local time: "12:25 today", "09:00 tomorrow", "Friday 25.11 at 12:25"."""
    local, today = moment.astimezone(zone), now.astimezone(zone)
    hm = local.strftime("%H:%M")
    days = (local.date() - today.date()).days
    if days == 0:
        return texts.t("time.today", time=hm)
    if days == 1:
        return texts.t("time.tomorrow", time=hm)
    weekday = texts.t(f"time.weekdays.d{local.weekday()}")
    return texts.t("time.later", weekday=weekday, date=local.strftime("%d.%m"), time=hm)


_CLOCK = re.compile(r"^(?:(\d{1,2})[./](\d{1,2})\s+)?(\d{1,2})[:.](\d{2})$")
_SPAN = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(m|min|h|d)$")


def choose_options(text: str, presets: Sequence[str]) -> tuple[str, ...]:
    """The owner's reply: one option per line; a line of numbers ("1, 3") picks presets."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip(" -•*\t")
        numbers = [p for p in re.split(r"[,\s]+", line) if p]
        if numbers and all(p.isdigit() and 1 <= int(p) <= len(presets) for p in numbers):
            out += [presets[int(p) - 1] for p in numbers]
        elif line:
            out.append(line)
    return tuple(dict.fromkeys(out))


def parse_when(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """A time the owner types: "14:30" (today, or tomorrow if it has passed), "25.11 14:30",
    or a span from now: "45m", "2h", "1d". None when it is none of these or in the past."""
    value = text.strip().lower()
    span = _SPAN.match(value)
    if span:
        amount, unit = float(span.group(1).replace(",", ".")), span.group(2)
        return now + timedelta(minutes=amount * {"m": 1, "min": 1, "h": 60, "d": 1440}[unit])
    m = _CLOCK.match(value)
    if not m:
        return None
    local = now.astimezone(zone)
    day, month, hour, minute = m.groups()
    try:
        moment = local.replace(hour=int(hour), minute=int(minute), second=0, microsecond=0)
        if day:
            moment = moment.replace(day=int(day), month=int(month))
            if moment < local:
                moment = moment.replace(year=moment.year + 1)
        elif moment <= local:
            moment += timedelta(days=1)
    except ValueError:
        return None
    return moment if moment > local else None
