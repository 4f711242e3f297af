"""The identity bridge's web flow: consent, ID-porten login, the upgrade of an anonymous
conversation to a logged-in thread (with proof of possession), "Mine samtaler", extra
devices, logout. See docs/identity-bridge.md."""

from __future__ import annotations

from .logins import SESSION_COOKIE, YouthSession
from .service import (
    IdentityWeb,
    LinkRefused,
    device_id,
    link_message,
    pending_device_frames,
    reseal,
    verified,
)

__all__ = [
    "SESSION_COOKIE",
    "IdentityWeb",
    "LinkRefused",
    "YouthSession",
    "device_id",
    "link_message",
    "pending_device_frames",
    "reseal",
    "verified",
]
