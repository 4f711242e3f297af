"""Frozen dataclasses: what a validated inbound frame asks the service to do.

They are the vocabulary between the protocol core (which parses and checks) and the endpoint
(which carries them out through chat.actions). Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResumeSetup:
    """A resume code made on the youth's device: the handle, proof and key backup it allows."""

    handle: str
    auth: str
    backup: str


@dataclass(frozen=True)
class Start:
    service: str
    key_bundle: str
    epoch: int
    resume: ResumeSetup | None


@dataclass(frozen=True)
class Resume:
    conversation: str
    token: str
    after: int


@dataclass(frozen=True)
class ResumeWithCode:
    handle: str
    auth: str
    after: int


@dataclass(frozen=True)
class Send:
    conversation: str
    cmid: str
    body: str


@dataclass(frozen=True)
class Typing:
    conversation: str


@dataclass(frozen=True)
class End:
    conversation: str


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Claim:
    conversation: str


@dataclass(frozen=True)
class Open:
    conversation: str
    after: int


@dataclass(frozen=True)
class Close:
    conversation: str
    outcome: str


@dataclass(frozen=True)
class Release:
    conversation: str


Command = (
    Start | Resume | ResumeWithCode | Send | Typing | End | Ping | Claim | Open | Close | Release
)
