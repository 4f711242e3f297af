"""The untyped frame encoder the server used before the typed events: the yardstick the event
tests hold the new encoder to, byte for byte."""

from __future__ import annotations

import json
from typing import Any

from chat.protocol import PROTOCOL_VERSION

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def frame(kind: str, **fields: Any) -> str:
    return _dumps({"v": PROTOCOL_VERSION, "type": kind, **fields})


def ack(cmid: str, seq: int, duplicate: bool, ts: int, conversation: str | None = None) -> str:
    fields: dict[str, Any] = {"cmid": cmid, "seq": seq}
    if conversation is not None:
        fields["conversation"] = conversation
    fields["duplicate"] = duplicate
    if ts:
        fields["ts"] = ts
    return frame("ack", **fields)


def deliver(
    conversation: str, seq: int, sender_role: str, sender: str, cmid: str, body: str, ts: int
) -> str:
    prefix = f'{{"v":{PROTOCOL_VERSION},"type":"deliver","seq":'
    suffix = "," + _dumps({"conversation": conversation, "from": sender_role, "sender": sender,
                           "cmid": cmid, "body": body, "ts": ts})[1:]
    return f"{prefix}{seq}{suffix}"
