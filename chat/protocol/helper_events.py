"""The outbound events of a colleague asked into a conversation (chat/actions/helpers.py):
chat/protocol/events.py re-exports them, so the protocol stays one document; they live here to
keep that module small."""

from __future__ import annotations

from dataclasses import dataclass

from chat.protocol.eventbase import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class Invited(Event):
    """To the invited colleague's dashboards: ``by`` (the holder's display name) asks her in."""

    type = "invited"
    conversation: str
    service: str
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteSent(Event):
    """To the holder: the invitation to ``nurse`` (username) is stored."""

    type = "invite_sent"
    conversation: str
    nurse: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Left(Event):
    """To the helper: she has left; the conversation goes from her dashboard."""

    type = "left"
    conversation: str
