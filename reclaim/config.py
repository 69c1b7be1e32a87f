"""Loading config.yaml: ``${VAR}`` and the environment's overrides, secrets refused where they
are written, each source validated by its kind; every problem named with its key path and
line (ConfigError), so `reclaim` exits 2 with all of them at once."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from reclaim.settings import Settings
from reclaim.yamlsource import ConfigError, LoadedYaml, load_yaml, path_text
from watchers import REGISTRY
from watchers.options import is_credential_header

SCHEME_ONLY = re.compile(r"^\s*(bearer|basic|token|digest|apikey|key)?[\s:=]*$", re.I)
SECRET_PATHS = {("telegram", "token"): "TELEGRAM_BOT_TOKEN"}
ENV_OVERRIDES = {
    ("database", "url"): "RECLAIM_DATABASE_URL",
    ("telegram", "token"): "TELEGRAM_BOT_TOKEN",
}


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
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p in REGISTRY)]
            line = loaded.line_of(loc)
            where = f"line {line}: " if line else ""
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see config.yaml in the repository for every key)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            elif err["type"] == "union_tag_invalid":
                msg = f"unknown source kind {err.get('input', {}).get('kind')!r} (use {_kinds()})"
            elif err["type"] == "union_tag_not_found":
                msg = f"every source needs a kind: {_kinds()}"
            problems.append(f"{where}{path_text(loc)}: {msg}")
        raise ConfigError(source, problems) from None
    _required_env(settings, loaded, source, env)
    return settings


def _kinds() -> str:
    names = REGISTRY.names()
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


def _required_env(settings: Settings, loaded: LoadedYaml, source: str, env: Mapping[str, str]) -> None:
    """An enabled source whose kind needs credentials from the environment (reddit's) has them."""
    for i, src in enumerate(settings.sources):
        missing = [var for var in REGISTRY.of(src).required_env if not env.get(var)] if src.enabled else []
        if missing:
            line = loaded.line_of(["sources", i])
            where = f"line {line}: " if line else ""
            raise ConfigError(
                source, [f"{where}sources[{i}] ({src.name}): set {', '.join(missing)} in the environment"]
            )


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
