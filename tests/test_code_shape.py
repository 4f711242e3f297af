"""The shape the code keeps (docs/architecture.md): small modules with one job, short
functions, no underscore names taken from another module, state names only in the domain."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("chat", "anon", "identity_bridge")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def product_files() -> list[Path]:
    return sorted(p for pkg in PRODUCT for p in (ROOT / pkg).rglob("*.py"))


def test_no_module_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in product_files()
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_over_60_lines() -> None:
    long: dict[str, int] = {}
    for path in product_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.name}"] = n
    assert long == {}


def test_no_underscore_name_is_imported_from_another_module() -> None:
    found: list[str] = []
    for path in product_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                found += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert found == []


def test_conversation_states_are_named_only_in_the_domain() -> None:
    # A state is State.WAITING etc.; a bare "waiting"/"active"/"closed" compared with or
    # assigned to a state outside chat/domain is how the old code drifted apart.
    pattern = re.compile(r"""(==|!=|\bin\b|st\b\s*=|state\s*=)\s*\(?["'](waiting|active|closed)["']""")
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in product_files()
            if "domain" not in p.parts
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert hits == []
