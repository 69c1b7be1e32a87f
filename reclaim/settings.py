"""Settings: config.yaml validated by pydantic, secrets only from the environment."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    SerializeAsAny,
    field_validator,
    model_validator,
)

from reclaim.settings_respond import Respond, answerable
from watchers import REGISTRY, HttpOptions, SourceOptions
from watchers.options import Duration, HttpUrl, Strict, is_credential_header


def _by_kind(value: Any) -> Any:
    """``sources:`` entries validated by the model of the kind each names (watchers.REGISTRY)."""
    return REGISTRY.adapter().validate_python(value) if isinstance(value, list) else value


Sources = Annotated[list[SerializeAsAny[SourceOptions]], BeforeValidator(_by_kind)]


class Brand(Strict):
    name: str = Field(min_length=1)
    aliases: list[str] = []

    def names(self) -> list[str]:
        return [self.name, *self.aliases]


class Database(Strict):
    url: str = "sqlite:///reclaim.db"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = value.split(":", 1)[0]
        if not scheme.startswith(("sqlite", "postgresql")):
            raise ValueError("use sqlite:///path.db or postgresql+psycopg://user@host/db")
        return value


class Rate(Strict):
    """At most ``count`` messages every ``per``."""

    count: int = Field(ge=1, le=100_000)
    per: Duration


class TelegramLimits(Strict):
    """Telegram's flood limits, which the bot keeps to (a 429's retry_after is honoured too)."""

    overall: Rate = Rate(count=30, per=timedelta(seconds=1))
    per_group: Rate = Rate(count=20, per=timedelta(minutes=1))
    max_retries: int = Field(default=5, ge=0, le=50)


class Telegram(Strict):
    bot_username: str | None = None
    token: SecretStr | None = None
    base_url: HttpUrl | None = None  # a local Bot API server, e.g. http://127.0.0.1:8081/bot
    staff_chat_id: int | None = None
    staff_user_ids: list[int] = []
    manager_chat_id: int | None = None
    manager_user_ids: list[int] = []
    staff_language: str = "en"
    poll_timeout: Duration = timedelta(seconds=10)
    limits: TelegramLimits = TelegramLimits()

    @field_validator("token", mode="before")
    @classmethod
    def _empty_token(cls, value: Any) -> Any:
        """TELEGRAM_BOT_TOKEN set but empty (compose's ``${TELEGRAM_BOT_TOKEN:-}``) means no bot."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", value):
            raise ValueError("a Telegram bot username: 4-32 letters, digits or _, e.g. nordlys_care_bot")
        return value

    @field_validator("staff_language")
    @classmethod
    def _texts_exist(cls, value: str) -> str:
        from bot.texts import available_languages

        if value not in available_languages():
            have = ", ".join(available_languages())
            raise ValueError(f"no staff texts for language {value!r} (have: {have}; add bot/texts/{value}.toml)")
        return value

    @field_validator("staff_user_ids", "manager_user_ids")
    @classmethod
    def _user_ids(cls, value: list[int]) -> list[int]:
        for uid in value:
            if uid <= 0:
                raise ValueError(f"{uid} is not a Telegram user id (user ids are positive numbers; see @userinfobot)")
        return value

    @model_validator(mode="after")
    def _bot_needs(self) -> Telegram:
        if self.token is not None:
            if self.staff_chat_id is None:
                raise ValueError("staff_chat_id is required with a token: the chat where complaint cards go")
            if not self.staff_user_ids:
                raise ValueError("staff_user_ids is required with a token: the numeric ids of staff who may act")
        return self

    def is_staff(self, user_id: int) -> bool:
        return user_id in self.staff_user_ids or user_id in self.manager_user_ids

    def alerts_chat(self) -> int | None:
        return self.manager_chat_id if self.manager_chat_id is not None else self.staff_chat_id


class Sla(Strict):
    first_response: Duration = timedelta(hours=1)


class Spike(Strict):
    count: int = Field(default=5, ge=1)
    window: Duration = timedelta(hours=1)


class Alerts(Strict):
    spike: Spike = Spike()
    check_every: Duration = timedelta(seconds=30)


class Learning(Strict):
    """When the learned triage is retrained from the team's decisions (reclaim triage train)."""

    enabled: bool = True  # false: no training, and the word lists decide whatever was trained before
    every: Duration = timedelta(hours=6)  # how often `reclaim run` looks for new labels
    min_labels: int = Field(default=100, ge=20, le=1_000_000)  # before any model is trained
    min_new: int = Field(default=25, ge=1, le=1_000_000)  # new labels since the last training
    folds: int = Field(default=5, ge=2, le=20)  # cross-validation that decides who decides
    rating_weight: float = Field(default=0.3, gt=0, le=1, allow_inf_nan=False)  # a review's stars count this much

    @field_validator("every")
    @classmethod
    def _often_enough(cls, value: timedelta) -> timedelta:
        if not timedelta(minutes=1) <= value <= timedelta(days=365):
            raise ValueError("train at most every minute and at least once a year (1m to 365d)")
        return value


LaneKind = Literal["question", "praise", "uncertain", "other"]


class InboxSettings(Strict):
    """What the staff chat and the dashboard show besides complaints: the mentions lane."""

    show: list[LaneKind] = ["question", "praise", "uncertain"]


class TriageSettings(Strict):
    languages: list[str] = Field(default_factory=lambda: ["en", "ru", "da"], min_length=1)
    default_language: str | None = None
    lexicon_dirs: list[Path] = []
    extend: dict[str, dict[str, Any]] = {}
    learn: Learning = Learning()

    @model_validator(mode="after")
    def _default_known(self) -> TriageSettings:
        if self.default_language and self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} is not in languages")
        return self


class Drafts(Strict):
    greet_by_name: bool = True
    templates_dirs: list[Path] = []
    templates: dict[str, dict[str, Any]] = {}


class Polling(Strict):
    concurrency: int = Field(default=8, ge=1, le=256)
    workers: int | None = Field(default=None, ge=0, le=32)  # parse/triage processes; None: CPUs (max 4)
    jitter: Duration = timedelta(seconds=15)
    retries: int = Field(default=2, ge=0, le=10)
    backoff_base: Duration = timedelta(seconds=30)
    backoff_max: Duration = timedelta(hours=6)
    user_agent: str | None = None


class Reddit(Strict):
    """The Reddit API client shared by every reddit source. Credentials come only from the
    environment: REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET, REDDIT_USERNAME, REDDIT_PASSWORD."""

    user_agent: str | None = Field(
        default=None, min_length=8
    )  # Reddit asks for "<platform>:<app>:<version> (by /u/<you>)"
    requests_per_minute: int = Field(default=90, ge=1, le=1000)  # Reddit allows 100 per OAuth client
    timeout: Duration = timedelta(seconds=20)
    oauth_url: HttpUrl = "https://oauth.reddit.com"
    reddit_url: HttpUrl = "https://www.reddit.com"


DEFAULT_CAUSES = [
    "late_delivery",
    "wrong_item",
    "damaged_goods",
    "product_quality",
    "rude_staff",
    "billing_error",
    "website_problem",
    "policy",
]


class Review(Strict):
    """Learning from complaints: the causes owners choose from, and the monthly review."""

    causes: list[str] = Field(default_factory=lambda: list(DEFAULT_CAUSES), min_length=1, max_length=24)
    send_monthly: bool = True  # the review goes to the managers' chat on the 1st
    send_at: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")

    @field_validator("causes")
    @classmethod
    def _cause_names(cls, value: list[str]) -> list[str]:
        for cause in value:
            if not re.fullmatch(r"[\w-]{1,40}", cause):
                raise ValueError(f"{cause!r}: a cause is one word of letters, digits, _ or - (e.g. late_delivery)")
        if len(set(value)) != len(value):
            raise ValueError("each cause once")
        return value


class Web(Strict):
    """The web dashboard `reclaim run` (and `reclaim web`) serves. Users: `reclaim users add`."""

    enabled: bool = True
    listen: str = Field(default="127.0.0.1:8080", pattern=r"^[\w.:\[\]-]+:\d{1,5}$")
    secure_cookies: bool = False  # true when it is served over https (behind a proxy)
    session_hours: float = Field(default=12, gt=0, le=24 * 30)
    # more failed logins than this for one name, or from one address, within the window: HTTP 429
    login_attempts: int = Field(default=10, ge=1, le=10_000)
    login_window: Duration = timedelta(minutes=15)
    # the reverse proxies whose X-Forwarded-For names the client (throttling counts per client)
    trusted_proxies: list[str] = []

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])


class OutboxSettings(Strict):
    """Messages leaving the process (cards, replies, alerts): a row that keeps failing is given up
    after this many attempts, shown on its card, and retried or dropped with `reclaim outbox`."""

    max_attempts: int = Field(default=10, ge=1, le=1000)  # for an error that comes back the same
    give_up_after: Duration = timedelta(days=1)  # for passing ones (unreachable, flood limits)


class ConversationSettings(Strict):
    """The private conversation: what to ask per category and the default times told."""

    questions: dict[str, list[Literal["order", "date", "what", "photo"]]] = {}
    promise: Duration = timedelta(hours=4)  # "you will hear from us by …" when the owner sets none
    manager_within: Duration = timedelta(hours=2)  # when a manager will write after /manager
    extension: Duration | None = None  # the new time after a missed one (default: `promise`)
    remind_before: Duration = timedelta(minutes=15)  # the owner is reminded this long before a promise
    texts_dirs: list[Path] = []  # your own responders/conversation/<code>.toml files
    presets: dict[str, list[str]] = {}  # category → preset solution keys (presets.<key> in the texts)


class LogSettings(Strict):
    format: Literal["text", "json"] = "text"  # json: one object per line, for a log collector


class Settings(Strict):
    brand: Brand
    logging: LogSettings = LogSettings()
    database: Database = Database()
    telegram: Telegram = Telegram()
    sources: Sources = []
    sla: Sla = Sla()
    alerts: Alerts = Alerts()
    triage: TriageSettings = TriageSettings()
    inbox: InboxSettings = InboxSettings()
    drafts: Drafts = Drafts()
    polling: Polling = Polling()
    conversation: ConversationSettings = ConversationSettings()
    reddit: Reddit = Reddit()
    review: Review = Review()
    web: Web = Web()
    outbox: OutboxSettings = OutboxSettings()
    respond: Respond = Respond()
    retention: Duration = timedelta(days=1827)  # finished complaints are anonymised after this (5 years)
    timezone: str = "UTC"

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, value: list[SourceOptions]) -> list[SourceOptions]:
        seen: set[str] = set()
        for source in value:
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}; names must be unique")
            seen.add(source.name)
        return value

    @field_validator("retention")
    @classmethod
    def _retention(cls, value: timedelta) -> timedelta:
        # anonymising finished complaints and deleting mentions: minutes would be a typo for months
        if value < timedelta(days=1):
            raise ValueError("at least 1 day (the register keeps complaints 5 years by default: 1827d)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use e.g. Europe/Copenhagen)") from exc
        return value

    @model_validator(mode="after")
    def _groups_need_the_bot(self) -> Settings:
        for src in self.sources:
            if not REGISTRY.of(src).needs_bot:
                continue
            if self.telegram.staff_chat_id is None:
                raise ValueError(f"source {src.name!r} watches Telegram groups: set telegram.token and staff_chat_id")
            own = {self.telegram.staff_chat_id, self.telegram.manager_chat_id}
            if own & set(src.telegram_chats()):
                raise ValueError(f"source {src.name!r}: the staff and managers' chats cannot be watched as sources")
        return self

    @model_validator(mode="after")
    def _policy_answers(self) -> Settings:
        auto = self.respond.auto_publish
        if auto is not None:
            try:
                answerable(auto.sources, self.sources)
            except ValueError as exc:
                raise ValueError(f"respond.auto_publish.sources: {exc}") from exc
            unknown = sorted(set(auto.languages or ()) - set(self.triage.languages))
            if unknown:
                raise ValueError(f"respond.auto_publish.languages: {', '.join(unknown)} not in triage.languages")
        return self

    def secret_values(self) -> list[str]:
        """Every secret this config holds (kept out of logs and tracebacks by reclaim.redact)."""
        out = [self.telegram.token.get_secret_value() if self.telegram.token else None]
        out.append(urlsplit(self.database.url).password)
        for src in self.sources:
            for name, value in (src.headers if isinstance(src, HttpOptions) else {}).items():
                if is_credential_header(name, value):
                    out += [value, value.split(None, 1)[-1]]
        return [v for v in out if v]

    def source(self, name: str) -> SourceOptions:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)
