"""docs/protocol.md keeps step with the schema and the errors: every message type is described
there, and every client error code is in its error table with the class's HTTP status."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path

import anon
import chat
import identity_bridge
from chat import errors

ROOT = Path(__file__).resolve().parents[3]


def test_every_schema_type_is_documented() -> None:
    schema = json.loads((ROOT / "chat/protocol/schema.json").read_text())
    doc = (ROOT / "docs/protocol.md").read_text()
    types = set(schema["outbound"])
    for role in schema["inbound"].values():
        types |= set(role)
    missing = sorted(t for t in types if f"`{t}`" not in doc)
    assert not missing, f"describe these in docs/protocol.md: {missing}"


def error_table() -> dict[str, str]:
    """code -> HTTP status, from the rows of docs/protocol.md's "Error codes" table."""
    doc = (ROOT / "docs/protocol.md").read_text()
    section = doc.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([a-z0-9_.]+)` \| ([0-9]{3}|–) \|", section, re.MULTILINE))


def client_error_classes() -> list[type[errors.ClientError]]:
    """ClientError and every subclass, wherever defined: import every module that may hold one."""
    for pkg in (chat, anon, identity_bridge):
        for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if not mod.name.endswith("__main__"):
                importlib.import_module(mod.name)
    out: list[type[errors.ClientError]] = []
    pending: list[type[errors.ClientError]] = [errors.ClientError]
    while pending:
        cls = pending.pop()
        out.append(cls)
        pending.extend(cls.__subclasses__())
    return out


def test_the_walk_finds_subclasses_outside_chat_errors() -> None:
    modules = {cls.__module__ for cls in client_error_classes()}
    assert "chat.errors" in modules
    assert "identity_bridge.web.journal" in modules


def test_every_client_error_code_is_documented_with_its_status() -> None:
    table = error_table()
    assert "bad_request" in table, "the error table was not found"
    missing = sorted({f"{c.__module__}.{c.__name__}: {c.code}"
                      for c in client_error_classes() if c.code not in table})
    assert not missing, f"add these codes to docs/protocol.md's error table: {missing}"
    wrong = sorted({f"{c.code}: class says {c.http_status}, table says {table[c.code]}"
                    for c in client_error_classes() if table[c.code] != str(c.http_status)})
    assert not wrong, f"fix the HTTP status in docs/protocol.md's error table: {wrong}"


def test_one_code_one_status() -> None:
    statuses: dict[str, set[int]] = {}
    for cls in client_error_classes():
        statuses.setdefault(cls.code, set()).add(cls.http_status)
    assert {c: s for c, s in statuses.items() if len(s) > 1} == {}
