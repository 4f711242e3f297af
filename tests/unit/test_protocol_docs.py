"""docs/protocol.md keeps step with the schema: every message type is described there."""

from __future__ import annotations

import json
from pathlib import Path

from chat import errors

ROOT = Path(__file__).resolve().parents[2]


def test_every_schema_type_is_documented() -> None:
    schema = json.loads((ROOT / "chat/protocol/schema.json").read_text())
    doc = (ROOT / "docs/protocol.md").read_text()
    types = set(schema["outbound"])
    for role in schema["inbound"].values():
        types |= set(role)
    missing = sorted(t for t in types if f"`{t}`" not in doc)
    assert not missing, f"describe these in docs/protocol.md: {missing}"


def test_every_client_error_code_is_documented() -> None:
    doc = (ROOT / "docs/protocol.md").read_text()
    codes = {cls.code for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, errors.ClientError)}
    missing = sorted(c for c in codes if f"`{c}`" not in doc)
    assert not missing, f"document these error codes: {missing}"
