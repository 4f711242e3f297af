"""The outbound events of fair use and a nurse's load (docs/queue.md): chat/protocol/events.py
re-exports them, so the protocol stays one document; they live here to keep that module small."""

from __future__ import annotations

from dataclasses import dataclass

from chat.protocol.eventbase import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class StartPause(Event):
    """Whether new starts from a conversation's token are paused: ``until`` when the pause
    ends, None when there is none (lifted, or never paused)."""

    type = "start_pause"
    conversation: str
    until: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Load(Event):
    """The nurse's own load: her cap, the slots she uses, whether she is on a break."""

    type = "load"
    capacity: int
    used: int
    on_break: bool
