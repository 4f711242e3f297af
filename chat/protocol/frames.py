"""Legacy outbound frame builders. New code builds a typed event and encodes it
(``events.encode(events.State(...))``, chat/protocol/events.py); these stay until every caller
has moved."""

from __future__ import annotations

import json
from typing import Any

from chat.protocol import PROTOCOL_VERSION, events

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

deliver_template = events.deliver_template


def frame(kind: str, **fields: Any) -> str:
    """Legacy path: an untyped frame of type ``kind``. Use the event class of that type."""
    return _dumps({"v": PROTOCOL_VERSION, "type": kind, **fields})


def ack(cmid: str, seq: int, duplicate: bool, ts: int, conversation: str | None = None) -> str:
    """Legacy path for ``events.Ack`` (``ts`` 0 is left out, as for a duplicate)."""
    return events.encode(events.Ack(cmid=cmid, seq=seq, conversation=conversation,
                                    duplicate=duplicate, ts=ts or None))


def error(code: str, message: str, ref: str | None = None) -> str:
    """Legacy path for ``events.Error``."""
    return events.encode(events.Error(code=code, message=message, ref=ref))


def deliver(
    conversation: str, seq: int, sender_role: str, sender: str, cmid: str, body: str, ts: int
) -> str:
    """Legacy path for ``events.Deliver``."""
    return events.encode(events.Deliver(seq=seq, conversation=conversation, from_=sender_role,
                                        sender=sender, cmid=cmid, body=body, ts=ts))
