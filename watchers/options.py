"""What every source's options share, as the config gives them (pydantic): the name, the
schedule, the time limits, brand matching; HTTP sources add the address. Each source kind
extends these with its own model (``watchers/<kind>.py``), and reclaim.settings validates
``sources:`` against the models of the kinds in ``watchers.REGISTRY``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator

from core.durations import format_duration, parse_duration

Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)]
SOURCE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http:// or https:// address (got {value!r})")
    try:
        parts.port  # noqa: B018 - raises for a port that cannot be
    except ValueError as exc:
        raise ValueError(f"not a usable address ({exc}: the port is 1 to 65535)") from None
    return value


# a source header that carries a credential: by its name, or by a value like "Bearer …"
CREDENTIAL_HEADER = re.compile(r"auth|token|secret|passw|cookie|key|session|signature|credential", re.I)
CREDENTIAL_VALUE = re.compile(r"^\s*(bearer|basic|token|digest|apikey|key)[\s:=]+\S", re.I)


def is_credential_header(name: str, value: str) -> bool:
    """Whether a header carries a credential (it must come from the environment, is redacted
    from logs, and never follows a redirect to another host)."""
    return bool(CREDENTIAL_HEADER.search(name) or CREDENTIAL_VALUE.match(value))


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class Strict(BaseModel):
    """A config block: unknown keys are errors, values do not change once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceOptions(Strict):
    """One entry of ``sources:``; ``kind`` names its class in the registry."""

    kind: str
    name: str = Field(pattern=SOURCE_NAME)
    every: Duration = timedelta(minutes=5)
    timeout: Duration = timedelta(seconds=20)  # the whole fetch: connecting, redirects and every read
    parse_timeout: Duration = timedelta(seconds=5)  # parsing and triage of one fetched document
    match: Literal["brand", "all"] = "brand"
    enabled: bool = True
    language: str | None = None
    publisher: str = "manual"  # how a reply is published; kinds with a reply API narrow this

    @field_validator("every")
    @classmethod
    def _min_every(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=10):
            raise ValueError("poll at most every 10s")
        return value

    def telegram_chats(self) -> list[int]:
        """The Telegram chats this source watches (none but for kinds that watch chats)."""
        return []


class HttpOptions(SourceOptions):
    """A source read over HTTP: one address, fetched with conditional GET."""

    url: HttpUrl
    max_bytes: int = Field(default=10_000_000, ge=1024)
    headers: dict[str, str] = {}
