"""Outbound frames. Each is encoded once; fan-out forwards the same text to every receiver."""

from __future__ import annotations

import json
from typing import Any

from chat.protocol import PROTOCOL_VERSION

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def frame(kind: str, **fields: Any) -> str:
    return _dumps({"v": PROTOCOL_VERSION, "type": kind, **fields})


def ack(cmid: str, seq: int, duplicate: bool, ts: int, conversation: str | None = None) -> str:
    """The sender's confirmation: stored as ``seq`` (the sending connection gets no deliver of
    its own message; see chat/fanout/feed.py). ``ts`` is left out for a duplicate."""
    fields: dict[str, Any] = {"cmid": cmid, "seq": seq}
    if conversation is not None:
        fields["conversation"] = conversation
    fields["duplicate"] = duplicate
    if ts:
        fields["ts"] = ts
    return frame("ack", **fields)


def error(code: str, message: str, ref: str | None = None) -> str:
    if ref is None:
        return frame("error", code=code, message=message)
    return frame("error", code=code, message=message, ref=ref)


def deliver_template(
    conversation: str, sender_role: str, sender: str, cmid: str, body: str, ts: int
) -> tuple[str, str]:
    """A deliver frame split around its sequence number, which only the store knows.

    The append script joins prefix + seq + suffix and publishes the result, so the frame is
    encoded once, here, and never parsed again on its way to the receivers.
    """
    prefix = f'{{"v":{PROTOCOL_VERSION},"type":"deliver","seq":'
    suffix = "," + _dumps(
        {"conversation": conversation, "from": sender_role, "sender": sender,
         "cmid": cmid, "body": body, "ts": ts}
    )[1:]
    return prefix, suffix


def deliver(
    conversation: str, seq: int, sender_role: str, sender: str, cmid: str, body: str, ts: int
) -> str:
    prefix, suffix = deliver_template(conversation, sender_role, sender, cmid, body, ts)
    return f"{prefix}{seq}{suffix}"
