"""Reading config YAML with line numbers kept, ``${VAR}`` interpolation and duplicate-key checks."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from reclaim.redact import REDACT

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class ConfigError(Exception):
    """One or more configuration mistakes, each naming the key path (and line where known)."""

    source: str
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {p}" for p in self.problems)


def path_text(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


@dataclass
class LoadedYaml:
    data: Any
    root: yaml.Node | None
    # the paths whose string had a ${VAR}, each with what of it was written in the file itself:
    # the text around the references and any ${VAR:-default}'s default (secrets may not be there)
    interpolated: dict[tuple[str | int, ...], str]

    def literal(self, path: Sequence[str | int], value: str) -> str:
        """What of the string at ``path`` was written in the config, not read from the environment."""
        return self.interpolated.get(tuple(path), value)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """1-based line of the node at ``path``; the deepest existing ancestor if it is missing."""
        node, line = self.root, None
        for part in path:
            if node is None:
                break
            line = node.start_mark.line + 1
            nxt = None
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if key.value == part:
                        nxt = value
                        line = key.start_mark.line + 1
                        break
                else:
                    continue  # a pydantic tag (e.g. the source kind) that is not a YAML key
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                nxt = node.value[part] if part < len(node.value) else None
            node = nxt
        if node is not None:
            line = node.start_mark.line + 1
        return line


def _check_duplicates(node: yaml.Node, path: list[str | int], problems: list[str]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            k = str(key.value)
            if k in seen:
                problems.append(
                    f"line {key.start_mark.line + 1}: {path_text([*path, k])}: duplicate key (first at line {seen[k]})"
                )
            seen[k] = key.start_mark.line + 1
            _check_duplicates(value, [*path, k], problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicates(item, [*path, i], problems)


# a variable whose name says it holds a secret (its value is kept out of every printed line)
SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASS|AUTH|CRED|PRIVATE", re.IGNORECASE)


def interpolate(
    data: Any,
    env: Mapping[str, str],
    path: tuple[str | int, ...],
    seen: dict[tuple[str | int, ...], str],
    problems: list[str],
    line_of: Any,
) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string, recording which paths had one."""
    if isinstance(data, dict):
        return {k: interpolate(v, env, (*path, k), seen, problems, line_of) for k, v in data.items()}
    if isinstance(data, list):
        return [interpolate(v, env, (*path, i), seen, problems, line_of) for i, v in enumerate(data)]
    if not isinstance(data, str) or "${" not in data:
        return data
    seen[path] = _VAR.sub(lambda m: m.group(2) or "", data)

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            if SECRET_NAME.search(name):  # FEED_KEY, SHOP_API_TOKEN …: never printed, wherever it lands
                REDACT.add([env[name]])
            return env[name]
        if default is not None:
            return default
        line = line_of(path)
        where = f"line {line}: " if line else ""
        problems.append(f"{where}{path_text(path)}: environment variable {name} is not set")
        return ""

    return _VAR.sub(repl, data)


def load_yaml(text: str, source: str, env: Mapping[str, str] | None = None) -> LoadedYaml:
    """Parse ``text``; raise ConfigError for YAML syntax errors, duplicate keys or unset variables."""
    env = os.environ if env is None else env
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else {}
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(source, [f"{where}not valid YAML: {exc.problem}"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"not valid YAML: {exc}"]) from exc
    problems: list[str] = []
    if root is not None:
        _check_duplicates(root, [], problems)
    loaded = LoadedYaml(data=data, root=root, interpolated={})
    if data is None:
        loaded.data = {}
    elif not isinstance(data, dict):
        problems.append("line 1: the top level must be a mapping of keys (brand:, sources:, ...)")
    else:
        loaded.data = interpolate(data, env, (), loaded.interpolated, problems, loaded.line_of)
    if problems:
        raise ConfigError(source, problems)
    return loaded
