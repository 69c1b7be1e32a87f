"""The rooms' rules that import-linter cannot say: core imports the standard library and
itself only (lint-imports forbids the known packages; this catches any other)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_imports_the_standard_library_only() -> None:
    foreign = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("core", "__future__"):
                    foreign.append(f"{path.relative_to(ROOT)}: {name}")
    assert foreign == []
