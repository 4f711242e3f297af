"""The stand-in's memory: subscriptions (with the user agent's private key and auth secret),
the messages that arrived for each, and the failure modes tests switch on. Nothing persists:
a restart starts empty, like a push service that lost every subscription."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .checks import b64url

# What each failure mode answers instead of storing the push (hang: no answer at all).
MODES = frozenset({"ok", "gone", "not_found", "throttle", "error", "hang"})


@dataclass(frozen=True)
class Message:
    """One push as it arrived (a later push with the same topic replaces it)."""

    id: str
    ttl: int
    urgency: str | None
    topic: str | None
    payload: str | None
    sub: str
    received_at: float

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "ttl": self.ttl, "urgency": self.urgency, "topic": self.topic,
                "payload": self.payload, "sub": self.sub, "received_at": self.received_at}


@dataclass
class Subscription:
    id: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    application_server_key: str | None = None
    messages: list[Message] = field(default_factory=list)
    attempts: int = 0
    mode: str = "ok"
    times: int | None = None  # None: the mode holds until changed

    @property
    def p256dh(self) -> str:
        return b64url(self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    def take_mode(self) -> str:
        """The mode for this push; counts down a limited one and falls back to ok."""
        mode = self.mode
        if mode != "ok" and self.times is not None:
            self.times -= 1
            if self.times <= 0:
                self.mode, self.times = "ok", None
        return mode

    def store(self, message: Message) -> None:
        # RFC 8030 §5.4: a new message with a topic replaces an undelivered one with the same.
        if message.topic is not None:
            self.messages = [m for m in self.messages if m.topic != message.topic]
        self.messages.append(message)


class Store:
    def __init__(self) -> None:
        self.subscriptions: dict[str, Subscription] = {}

    def subscribe(self, application_server_key: str | None = None) -> Subscription:
        sub = Subscription(id=secrets.token_urlsafe(16),
                           private_key=ec.generate_private_key(ec.SECP256R1()),
                           auth=os.urandom(16), application_server_key=application_server_key)
        self.subscriptions[sub.id] = sub
        return sub

    def get(self, sub_id: str) -> Subscription | None:
        return self.subscriptions.get(sub_id)

    def clear(self) -> None:
        """Forget every message, count and mode; the subscriptions stay valid."""
        for sub in self.subscriptions.values():
            sub.messages.clear()
            sub.attempts, sub.mode, sub.times = 0, "ok", None
