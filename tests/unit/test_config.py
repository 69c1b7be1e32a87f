"""One test per kind of config mistake: each names the key path and line, and exits 2."""

from pathlib import Path

import pytest

from reclaim.cli import main
from reclaim.config import settings_from_text
from reclaim.yamlsource import ConfigError

GOOD = """\
brand: {name: Nordlys, aliases: [nordlys]}
database: {url: sqlite:///reclaim.db}
telegram: {bot_username: nordlys_care_bot, staff_chat_id: -1001, staff_user_ids: [42]}
sources:
  - {name: reviews, kind: rss, url: "https://example.com/feed.xml", every: 5m}
  - name: otzyvy
    kind: html
    url: "https://example.com/company/reviews"
    every: 15m
    selectors:
      item: div.review
      text: div.review-body
"""


def problems(text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        settings_from_text(text, "config.yaml", env or {})
    return str(info.value)


def test_good_config_and_defaults() -> None:
    s = settings_from_text(GOOD, env={})
    assert s.sources[0].every.total_seconds() == 300
    assert s.sources[1].timeout.total_seconds() == 20
    assert s.sources[1].match == "brand"
    assert s.sla.first_response.total_seconds() == 3600


@pytest.mark.parametrize(
    ("mistake", "expected"),
    [
        (GOOD.replace("every: 15m", "evry: 15m"), "line 9: sources[1].evry: unknown key"),
        (
            GOOD.replace("every: 15m", "every: 15 minutes"),
            "line 9: sources[1].every: write a duration like",
        ),
        (
            GOOD.replace("brand: {name: Nordlys, aliases: [nordlys]}\n", ""),
            "brand: required key is missing",
        ),
        (GOOD.replace("kind: html", "kind: htm"), "sources[1]: unknown source kind 'htm'"),
        (
            GOOD.replace('url: "https://example.com/feed.xml"', 'url: "ftp://x"'),
            "line 5: sources[0].url: expected an http",
        ),
        (
            GOOD.replace("aliases: [nordlys]", "aliases: nordlys"),
            "brand.aliases: Input should be a valid list",
        ),
        (
            GOOD.replace("    selectors:\n      item: div.review\n      text: div.review-body\n", ""),
            "needs selectors",
        ),
        (GOOD.replace("item: div.review", "item: 'div[[review'"), "item: not a valid CSS selector"),
        (GOOD.replace("name: otzyvy", "name: reviews"), "two sources are named 'reviews'"),
        (GOOD + "brand: {name: Other}\n", "line 13: brand: duplicate key (first at line 1)"),
        ("brand: [\n", "not valid YAML"),
        (
            GOOD.replace("bot_username: nordlys_care_bot", "bot_username: x"),
            "telegram.bot_username: a Telegram bot username",
        ),
        (GOOD + "timezone: Mars/Olympus\n", "unknown time zone"),
        (
            GOOD + "triage: {learn: {every: 100000000d}}\n",
            "triage.learn.every: '100000000d' is longer than a schedule can count",
        ),
        (GOOD + "triage: {learn: {every: 0s}}\n", "triage.learn.every: train at most every minute"),
        (GOOD + "triage: {learn: {min_labels: -3}}\n", "triage.learn.min_labels"),
        (GOOD + "inbox: {show: [questoin]}\n", "inbox.show[0]: Input should be 'question', 'praise'"),
        (GOOD.replace("every: 15m", "every: 999999d"), "sources[1].every: '999999d' is longer than a schedule"),
    ],
)
def test_each_kind_of_mistake_is_named(mistake: str, expected: str) -> None:
    assert expected in problems(mistake)


def test_secrets_must_come_from_the_environment() -> None:
    literal = GOOD.replace("bot_username: nordlys_care_bot", "bot_username: nordlys_care_bot, token: '123:abc'")
    message = problems(literal)
    assert "telegram.token: secrets come only from the environment" in message
    assert "123:abc" not in message
    assert "database.url: has a password" in problems(GOOD.replace("sqlite:///reclaim.db", "postgresql://u:pw@h/db"))


def test_env_interpolation_and_missing_variables() -> None:
    text = GOOD.replace("bot_username: nordlys_care_bot", "bot_username: nordlys_care_bot, token: '${TG_TOKEN}'")
    assert "environment variable TG_TOKEN is not set" in problems(text)
    settings = settings_from_text(text, env={"TG_TOKEN": "123:abc"})
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)
    assert settings_from_text(GOOD, env={"TELEGRAM_BOT_TOKEN": "9:z"}).telegram.token is not None
    defaulted = GOOD.replace("sqlite:///reclaim.db", "'${DB:-sqlite:///x.db}'")
    assert settings_from_text(defaulted, env={}).database.url == "sqlite:///x.db"
    over = settings_from_text(GOOD, env={"RECLAIM_DATABASE_URL": "sqlite:///other.db"})
    assert over.database.url == "sqlite:///other.db"
    # set but empty (compose's ${TELEGRAM_BOT_TOKEN:-}) is no token: the watchers run alone, no crash
    assert settings_from_text(text, env={"TG_TOKEN": ""}).telegram.token is None
    assert settings_from_text(text, env={"TG_TOKEN": "  "}).telegram.token is None


def test_cli_exits_2_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD.replace("every: 5m", "every: often"), encoding="utf-8")
    assert main(["--config", str(path), "check-config"]) == 2
    err = capsys.readouterr().err
    assert "line 5: sources[0].every" in err
    assert main(["--config", str(tmp_path / "missing.yaml"), "check-config"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_config_path_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv("RECLAIM_CONFIG", str(path))
    assert main(["check-config"]) == 0
    assert "config OK: 2 source(s)" in capsys.readouterr().out


def test_bad_word_list_extension_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD + "triage: {extend: {en: {kind: {complaint: {huge: [x]}}}}}\n", encoding="utf-8")
    assert main(["--config", str(path), "check-config"]) == 2
    assert "use strong, medium or weak" in capsys.readouterr().err


def test_telegram_keys_are_checked() -> None:
    with_token = GOOD.replace("staff_chat_id: -1001, staff_user_ids: [42]", "token: '${TG}'")
    assert "telegram: staff_chat_id is required with a token" in problems(with_token, env={"TG": "1:a"})
    bad_ids = GOOD.replace("staff_user_ids: [42]", "staff_user_ids: [-5]")
    assert "-5 is not a Telegram user id" in problems(bad_ids)
    assert "staff_user_ids[0]" in problems(GOOD.replace("staff_user_ids: [42]", "staff_user_ids: [anna]"))
    unknown = GOOD.replace("staff_chat_id: -1001", "staff_chat_id: -1001, staff_langauge: ru")
    assert "telegram.staff_langauge: unknown key" in problems(unknown)
    no_texts = GOOD.replace("staff_chat_id: -1001", "staff_chat_id: -1001, staff_language: xx")
    assert "no staff texts for language 'xx'" in problems(no_texts)


SOCIAL = """
brand: {name: Nordlys}
telegram: {bot_username: nordlys_care_bot, token: "${TELEGRAM_BOT_TOKEN}", staff_chat_id: -1001, staff_user_ids: [7]}
sources:
  - name: reddit
    kind: reddit
    subreddits: [r/Nordlys, denmark]
  - name: groups
    kind: telegram_group
    chats: [-1002]
"""
REDDIT_ENV = {
    "REDDIT_CLIENT_ID": "i",
    "REDDIT_CLIENT_SECRET": "s",
    "REDDIT_USERNAME": "u",
    "REDDIT_PASSWORD": "p",
    "TELEGRAM_BOT_TOKEN": "1:x",
}


def test_social_sources_are_read_with_their_credentials_from_the_environment() -> None:
    s = settings_from_text(SOCIAL, env=REDDIT_ENV)
    reddit, groups = s.sources
    assert reddit.kind == "reddit" and reddit.subreddits == ["Nordlys", "denmark"] and reddit.publisher == "reddit"
    assert groups.kind == "telegram_group" and groups.chats == [-1002] and groups.publisher == "telegram"
    missing = problems(SOCIAL, {k: v for k, v in REDDIT_ENV.items() if k != "REDDIT_PASSWORD"})
    assert "line 5: sources[0] (reddit): set REDDIT_PASSWORD in the environment" in missing


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("subreddits: [r/Nordlys, denmark]", "subreddits: [no spaces]"),
        ("subreddits: [r/Nordlys, denmark]", "subreddits: [a_b]\n    submissions: false\n    comments: false"),
        ("chats: [-1002]", "chats: [42]"),
        ("chats: [-1002]", "chats: [-1001]"),
        ("kind: reddit", "kind: redit"),
    ],
)
def test_social_mistakes_are_named(change: str, expected: str) -> None:
    text = problems(SOCIAL.replace(change, expected), REDDIT_ENV)
    assert {
        "subreddits: [no spaces]": "sources[0].subreddits: 'no spaces' is not a subreddit name",
        "chats: [42]": "sources[1].chats: 42 is not a group id",
        "chats: [-1001]": "the staff and managers' chats cannot be watched as sources",
        "kind: redit": "unknown source kind 'redit' (use rss, html, reddit or telegram_group)",
    }.get(expected, "submissions and comments are both off: nothing to watch") in text


@pytest.mark.parametrize(
    "header",
    [
        "Authorization: Bearer sk-live-1234567890",
        "X-Api-Key: 1234567890abcdef",
        "Cookie: session=abcdef123456",
        "X-Custom: Token abcdef123456",
    ],
)
def test_credentials_in_source_headers_must_come_from_the_environment(header: str) -> None:
    name, value = header.split(": ", 1)
    text = GOOD.replace("every: 5m}", f'every: 5m, headers: {{"{name}": "{value}"}}}}')
    message = problems(text)
    assert f"line 5: sources[0].headers.{name}: looks like a credential" in message
    assert value not in message
    from_env = GOOD.replace("every: 5m}", f'every: 5m, headers: {{"{name}": "${{FEED_SECRET}}"}}}}')
    settings = settings_from_text(from_env, env={"FEED_SECRET": value})
    assert settings.sources[0].headers == {name: value}  # type: ignore[union-attr]
    assert value in settings.secret_values()  # kept out of logs and tracebacks


def test_ordinary_headers_are_fine_and_secrets_are_listed_for_redaction() -> None:
    text = GOOD.replace("every: 5m}", 'every: 5m, headers: {"Accept-Language": "da", "X-Client": "reclaim"}}')
    settings = settings_from_text(text, env={"TELEGRAM_BOT_TOKEN": "123456:SECRET-TOKEN"})
    assert settings.sources[0].headers["Accept-Language"] == "da"  # type: ignore[union-attr]
    assert settings.secret_values() == ["123456:SECRET-TOKEN"]
    over = settings_from_text(GOOD, env={"RECLAIM_DATABASE_URL": "postgresql://u:pg-secret-pw@h/db"})
    assert "pg-secret-pw" in over.secret_values()


def test_secrets_never_reach_a_log_line_or_a_traceback() -> None:
    """Before: python-telegram-bot's InvalidToken ("The token `…` was rejected") printed the
    token in full in `reclaim run`'s traceback; only the message, not the traceback, was filtered."""
    import io
    import logging

    from reclaim.redact import RedactingFormatter, Redactor

    redact = Redactor()
    redact.add(["123456:SECRET-TOKEN", "pg pass/wörd", "tiny", None])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(message)s", redact))
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    token = "123456:" + "SECRET-TOKEN"  # not written whole in this file, which the traceback quotes
    try:
        raise RuntimeError(f"The token `{token}` was rejected (postgresql://u:pg%20pass%2Fw%C3%B6rd@h)")
    except RuntimeError:
        log.exception("failed for %s", token)
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "Traceback" in text and "SECRET-TOKEN" not in text and "pg%20pass" not in text
    assert "failed for ***" in text and "postgresql://u:***@h" in text
    assert redact("a tiny word") == "a *** word"  # four characters are enough to be a secret
    short = Redactor()
    short.add(["abc"])
    assert short("abc") == "abc"  # three are not: they would blank ordinary words


@pytest.mark.parametrize(
    "header",
    [
        'Authorization: "Bearer abcdef123456${UNSET:-}"',
        'Authorization: "${UNSET:-Bearer abcdef123456}"',
        'X-Access-Key: "abcdef123456"',
        'Ocp-Apim-Subscription-Key: "abcdef123456"',
        'X-Custom: "bearer:abcdef123456"',
    ],
)
def test_a_reference_somewhere_in_the_value_does_not_excuse_a_written_credential(header: str) -> None:
    """Before: any ${…} in the value switched the check off, and only a few header names counted."""
    name, value = header.split(": ", 1)
    text = GOOD.replace("every: 5m}", f"every: 5m, headers: {{{name}: {value}}}}}")
    assert "looks like a credential" in problems(text)


def test_written_defaults_of_the_token_and_the_database_password_are_refused_too() -> None:
    token = GOOD.replace("bot_username: nordlys_care_bot", "bot_username: nordlys_care_bot, token: '${X:-123:LITERAL}'")
    assert "telegram.token: secrets come only from the environment" in problems(token)
    url = GOOD.replace("sqlite:///reclaim.db", "'postgresql://u:LiteralPw99@h/db${X:-}'")
    assert "database.url: has a password" in problems(url)
    fine = GOOD.replace("sqlite:///reclaim.db", "'postgresql://u:${DB_PASSWORD}@h/db'")
    assert settings_from_text(fine, env={"DB_PASSWORD": "s3cret-pw"}).database.url == "postgresql://u:s3cret-pw@h/db"


def test_respond_policy_resolves_sources_by_kind_and_name() -> None:
    text = (
        SOCIAL
        + "respond:\n  working_hours: {mon-fri: '09:00-17:00'}\n  auto_publish: {sources: [reddit], after: 20m}\n"
    )
    s = settings_from_text(text, env=REDDIT_ENV)
    policy = s.respond.policy(s.timezone, s.sources, s.triage.languages)
    assert policy is not None and policy.sources == {s.sources[0].name} and policy.after.total_seconds() == 1200
    assert policy.severities == {"low", "normal"} and policy.outside_hours.total_seconds() == 120
    assert settings_from_text(SOCIAL, env=REDDIT_ENV).respond.auto_publish is None  # off unless configured


@pytest.mark.parametrize(
    ("respond", "expected"),
    [
        (
            "auto_publish: {severities: [low, critical]}",
            "line 12: respond.auto_publish.severities: critical complaints are never",
        ),
        ("auto_publish: {sources: [rss]}", "rss sources have no reply API"),
        ("auto_publish: {sources: [nosuch]}", "'nosuch' is neither a source's name nor a source kind"),
        ("auto_publish: {after: 0s}", "respond.auto_publish.after"),
        ("auto_publish: {languages: [de]}", "respond.auto_publish.languages: de not in triage.languages"),
        ("working_hours: {mon: '9-17'}", "respond.working_hours"),
        ("working_hours: {weekdays: '09:00-17:00'}", "'weekdays' is not a day"),
        ("auto_publish: {languages: []}", "respond.auto_publish.languages"),  # settings that could never work
        ("auto_publish: {after: 2h, max_age: 1h}", "max_age is shorter than after or outside_hours"),
        ("working_hours: {wed: 'off', mon-fri: '09:00-17:00'}", "wed is given twice"),
    ],
)
def test_respond_mistakes_are_named(respond: str, expected: str) -> None:
    assert expected in problems(SOCIAL + f"respond:\n  {respond}\n", REDDIT_ENV)


def test_respond_zone_and_closed_days() -> None:
    assert "line 11: respond.timezone: unknown time zone 'Mars/Olympus'" in problems(
        SOCIAL + "respond: {timezone: Mars/Olympus}\n", REDDIT_ENV
    )
    s = settings_from_text(SOCIAL + "respond:\n  working_hours: {mon-fri: '09:00-17:00', sat: off}\n", env=REDDIT_ENV)
    assert s.respond.working_hours["sat"] == "closed"
