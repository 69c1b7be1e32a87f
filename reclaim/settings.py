"""Settings: config.yaml validated by pydantic, secrets only from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from reclaim.durations import format_duration, parse_duration
from reclaim.yamlsource import ConfigError, LoadedYaml, load_yaml, path_text

Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)]


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http:// or https:// address (got {value!r})")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
SOURCE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Selectors(Strict):
    """CSS selectors with Scrapy-style ``::attr(name)``; an empty selector is the item itself."""

    item: str = Field(min_length=1)
    id: str | None = None
    title: str | None = None
    text: str | None = None
    author: str | None = None
    link: str | None = None
    published: str | None = None
    rating: str | None = None

    @model_validator(mode="after")
    def _valid_css(self) -> Selectors:
        import soupsieve

        from watchers.html import split_selector

        for name, spec in self.model_dump().items():
            if spec is None:
                continue
            css, _attr = split_selector(spec)
            if name == "item" and not css:
                raise ValueError("selectors.item must select elements (e.g. div.review)")
            if css:
                try:
                    soupsieve.compile(css)
                except soupsieve.SelectorSyntaxError as exc:
                    raise ValueError(f"{name}: not a valid CSS selector {css!r}: {exc.args[0]}") from None
        return self


class SourceBase(Strict):
    name: str = Field(pattern=SOURCE_NAME)
    every: Duration = timedelta(minutes=5)
    timeout: Duration = timedelta(seconds=20)  # the whole fetch: connecting, redirects and every read
    parse_timeout: Duration = timedelta(seconds=5)  # parsing and triage of one fetched document
    match: Literal["brand", "all"] = "brand"
    enabled: bool = True
    language: str | None = None

    @field_validator("every")
    @classmethod
    def _min_every(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=10):
            raise ValueError("poll at most every 10s")
        return value


class HttpSourceBase(SourceBase):
    url: HttpUrl
    max_bytes: int = Field(default=10_000_000, ge=1024)
    headers: dict[str, str] = {}


class RssSource(HttpSourceBase):
    kind: Literal["rss"]
    publisher: Literal["manual"] = "manual"


class HtmlSource(HttpSourceBase):
    kind: Literal["html"]
    publisher: Literal["manual"] = "manual"
    extract: Literal["selectors", "jsonld"] = "selectors"
    selectors: Selectors | None = None

    @model_validator(mode="after")
    def _needs_selectors(self) -> HtmlSource:
        if self.extract == "selectors" and self.selectors is None:
            raise ValueError("an html source needs selectors: (item:, text:, ...) or extract: jsonld")
        if self.extract == "jsonld" and self.selectors is not None:
            raise ValueError("give either selectors: or extract: jsonld, not both")
        return self


SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")


class RedditSource(SourceBase):
    """New submissions and comments in some subreddits, and/or a site-wide search."""

    kind: Literal["reddit"]
    every: Duration = timedelta(minutes=2)
    subreddits: list[str] = []
    search: str | None = Field(default=None, min_length=1, max_length=512)
    submissions: bool = True
    comments: bool = True
    max_pages: int = Field(default=5, ge=1, le=10)  # pages of 100 read per listing when far behind
    ignore_authors: list[str] = ["AutoModerator"]
    publisher: Literal["reddit", "manual"] = "reddit"

    @field_validator("subreddits")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        out = []
        for raw in value:
            name = raw.strip().removeprefix("/").removeprefix("r/")
            if not SUBREDDIT.match(name):
                raise ValueError(f"{raw!r} is not a subreddit name (letters, digits and _, e.g. nordlys)")
            out.append(name)
        return out

    @model_validator(mode="after")
    def _something(self) -> RedditSource:
        if not self.subreddits and not self.search:
            raise ValueError('a reddit source needs subreddits: [...] or search: "..." (or both)')
        if self.subreddits and not (self.submissions or self.comments):
            raise ValueError("submissions and comments are both off: nothing to watch in the subreddits")
        return self


class TelegramGroupSource(SourceBase):
    """Groups (and channels' discussion groups) the bot is a member of, privacy mode off:
    messages naming the brand arrive with the bot's updates, nothing is polled."""

    kind: Literal["telegram_group"]
    chats: list[int] = Field(min_length=1)
    publisher: Literal["telegram", "manual"] = "telegram"

    @field_validator("chats")
    @classmethod
    def _groups(cls, value: list[int]) -> list[int]:
        for chat in value:
            if chat >= 0:
                raise ValueError(f"{chat} is not a group id (group ids are negative, e.g. -1001234567890)")
        return value


Source = Annotated[RssSource | HtmlSource | RedditSource | TelegramGroupSource, Field(discriminator="kind")]
HttpSource = RssSource | HtmlSource
KINDS = "rss, html, reddit or telegram_group"
TAGS = ("rss", "html", "reddit", "telegram_group")


class Sla(Strict):
    first_response: Duration = timedelta(hours=1)


class Spike(Strict):
    count: int = Field(default=5, ge=1)
    window: Duration = timedelta(hours=1)


class Alerts(Strict):
    spike: Spike = Spike()
    check_every: Duration = timedelta(seconds=30)


class TriageSettings(Strict):
    languages: list[str] = Field(default_factory=lambda: ["en", "ru", "da"], min_length=1)
    default_language: str | None = None
    lexicon_dirs: list[Path] = []
    extend: dict[str, dict[str, Any]] = {}

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


class Settings(Strict):
    brand: Brand
    database: Database = Database()
    telegram: Telegram = Telegram()
    sources: list[Source] = []
    sla: Sla = Sla()
    alerts: Alerts = Alerts()
    triage: TriageSettings = TriageSettings()
    drafts: Drafts = Drafts()
    polling: Polling = Polling()
    conversation: ConversationSettings = ConversationSettings()
    reddit: Reddit = Reddit()
    review: Review = Review()
    web: Web = Web()
    outbox: OutboxSettings = OutboxSettings()
    retention: Duration = timedelta(days=1827)  # finished complaints are anonymised after this (5 years)
    timezone: str = "UTC"

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, value: list[Source]) -> list[Source]:
        seen: set[str] = set()
        for source in value:
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}; names must be unique")
            seen.add(source.name)
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
            if not isinstance(src, TelegramGroupSource):
                continue
            if self.telegram.staff_chat_id is None:
                raise ValueError(f"source {src.name!r} watches Telegram groups: set telegram.token and staff_chat_id")
            own = {self.telegram.staff_chat_id, self.telegram.manager_chat_id}
            if own & set(src.chats):
                raise ValueError(f"source {src.name!r}: the staff and managers' chats cannot be watched as sources")
        return self

    def secret_values(self) -> list[str]:
        """Every secret this config holds (kept out of logs and tracebacks by reclaim.redact)."""
        out = [self.telegram.token.get_secret_value() if self.telegram.token else None]
        out.append(urlsplit(self.database.url).password)
        for src in self.sources:
            for name, value in (src.headers if isinstance(src, HttpSourceBase) else {}).items():
                if is_credential_header(name, value):
                    out += [value, value.split(None, 1)[-1]]
        return [v for v in out if v]

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)


SECRET_PATHS = {("telegram", "token"): "TELEGRAM_BOT_TOKEN"}
ENV_OVERRIDES = {
    ("database", "url"): "RECLAIM_DATABASE_URL",
    ("telegram", "token"): "TELEGRAM_BOT_TOKEN",
}


# a source header that carries a credential: by its name, or by a value like "Bearer …"
CREDENTIAL_HEADER = re.compile(r"auth|token|secret|passw|cookie|key|session|signature|credential", re.I)
CREDENTIAL_VALUE = re.compile(r"^\s*(bearer|basic|token|digest|apikey|key)[\s:=]+\S", re.I)
SCHEME_ONLY = re.compile(r"^\s*(bearer|basic|token|digest|apikey|key)?[\s:=]*$", re.I)


def is_credential_header(name: str, value: str) -> bool:
    return bool(CREDENTIAL_HEADER.search(name) or CREDENTIAL_VALUE.match(value))


def _written_secret(name: str, written: str) -> bool:
    """Whether what the config itself says of a credential header is more than a scheme word
    ("Bearer ${TOKEN}" is fine; "Bearer abc${X:-}" and "${X:-Bearer abc}" are not)."""
    return is_credential_header(name, written) and not SCHEME_ONLY.match(written)


def _literal_headers(data: dict[str, Any], loaded: LoadedYaml, problems: list[str]) -> None:
    """Credentials in a source's headers come from the environment, like every other secret."""
    sources = data.get("sources")
    for i, src in enumerate(sources if isinstance(sources, list) else []):
        headers = src.get("headers") if isinstance(src, dict) else None
        for name, value in (headers if isinstance(headers, dict) else {}).items():
            path = ("sources", i, "headers", name)
            if isinstance(value, str) and _written_secret(str(name), loaded.literal(path, value)):
                problems.append(
                    f"line {loaded.line_of(list(path))}: {path_text(path)}: looks like a credential; secrets come "
                    f'only from the environment: write e.g. {name}: "Bearer ${{FEED_TOKEN}}" and set FEED_TOKEN'
                )


def _has_password(url: str) -> bool:
    try:
        return bool(urlsplit(url).password)
    except ValueError:  # not a URL at all: Database's own check names it
        return False


def _apply_env(data: dict[str, Any], loaded: LoadedYaml, env: Mapping[str, str], problems: list[str]) -> None:
    _literal_headers(data, loaded, problems)
    for (section, key), var in SECRET_PATHS.items():
        block = data.get(section)
        written = loaded.literal((section, key), str(block.get(key))) if isinstance(block, dict) else ""
        if isinstance(block, dict) and key in block and written.strip():
            line = loaded.line_of([section, key])
            problems.append(
                f"line {line}: {section}.{key}: secrets come only from the environment; write ${{{var}}} and set {var}"
            )
    for (section, key), var in ENV_OVERRIDES.items():
        if env.get(var):
            block = data.setdefault(section, {})
            if isinstance(block, dict):
                block[key] = env[var]
    db = data.get("database")
    url = db.get("url") if isinstance(db, dict) else None
    written = loaded.literal(("database", "url"), url) if isinstance(url, str) else ""
    if _has_password(written) and not env.get("RECLAIM_DATABASE_URL"):
        problems.append(
            f"line {loaded.line_of(['database', 'url'])}: database.url: has a password in it; "
            "secrets come only from the environment: write ${RECLAIM_DATABASE_URL} or ${DB_PASSWORD}"
        )


def settings_from_text(text: str, source: str = "config.yaml", env: Mapping[str, str] | None = None) -> Settings:
    """Validate config text; raise ConfigError listing every problem with its key path and line."""
    env = os.environ if env is None else env
    loaded = load_yaml(text, source, env)
    problems: list[str] = []
    _apply_env(loaded.data, loaded, env, problems)
    if problems:
        raise ConfigError(source, problems)
    try:
        settings = Settings.model_validate(loaded.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [
                p for p in err["loc"] if not (isinstance(p, str) and p in ("rss", "html", "reddit", "telegram_group"))
            ]
            line = loaded.line_of(loc)
            where = f"line {line}: " if line else ""
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see config.yaml in the repository for every key)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            elif err["type"] == "union_tag_invalid":
                msg = f"unknown source kind {err.get('input', {}).get('kind')!r} (use {KINDS})"
            elif err["type"] == "union_tag_not_found":
                msg = f"every source needs a kind: {KINDS}"
            problems.append(f"{where}{path_text(loc)}: {msg}")
        raise ConfigError(source, problems) from None
    reddit = [i for i, src in enumerate(settings.sources) if isinstance(src, RedditSource) and src.enabled]
    missing = [var for var in REDDIT_ENV if not env.get(var)]
    if reddit and missing:
        line = loaded.line_of(["sources", reddit[0]])
        where = f"line {line}: " if line else ""
        name = settings.sources[reddit[0]].name
        raise ConfigError(
            source, [f"{where}sources[{reddit[0]}] ({name}): set {', '.join(missing)} in the environment"]
        )
    return settings


REDDIT_ENV = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USERNAME", "REDDIT_PASSWORD")


def config_path(cli_value: str | None, env: Mapping[str, str] | None = None) -> Path:
    """--config, else $RECLAIM_CONFIG, else ./config.yaml."""
    env = os.environ if env is None else env
    return Path(cli_value or env.get("RECLAIM_CONFIG") or "config.yaml")


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), ["no such file (give --config PATH or set RECLAIM_CONFIG)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"cannot read: {exc}"]) from None
    return settings_from_text(text, str(path), env)
