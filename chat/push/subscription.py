"""What a browser hands us when it subscribes to push (``PushSubscription.toJSON()`` plus the
language of its notices), checked before anything is stored. Pure: no I/O."""

from __future__ import annotations

import binascii
import fnmatch
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from chat.errors import BadSubscription
from chat.push.keys import unb64url

# The push services browsers use: Chrome/Edge/Opera (FCM), Firefox, Windows (WNS), Safari.
KNOWN_ORIGINS = (
    "https://fcm.googleapis.com",
    "https://updates.push.services.mozilla.com",
    "https://*.notify.windows.com",
    "https://web.push.apple.com",
    "https://*.push.apple.com",
)
LANGS = frozenset({"nb", "nn", "en"})
MAX_ENDPOINT = 1024
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str
    lang: str
    tag: str  # random per subscription: the notice's tag, never the conversation id

    def as_info(self) -> dict[str, object]:
        """What pywebpush takes."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    def to_bytes(self) -> bytes:
        return json.dumps({"e": self.endpoint, "p": self.p256dh, "a": self.auth,
                           "l": self.lang, "t": self.tag}, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Subscription:
        d = json.loads(raw)
        return cls(endpoint=d["e"], p256dh=d["p"], auth=d["a"], lang=d["l"], tag=d["t"])


def parse_origins(text: str) -> tuple[str, ...]:
    """``HELSEPRAT_PUSH_EXTRA_ORIGINS``: comma-separated origins (scheme://host[:port])."""
    return tuple(o.strip().rstrip("/") for o in text.split(",") if o.strip())


def origin_allowed(endpoint: str, extra: tuple[str, ...] = ()) -> bool:
    """https on a known push service (``*.`` matches one or more labels), or exactly one of
    the operator's extra origins (the tests' stand-in may be plain http on 127.0.0.1)."""
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return False
    if not parts.hostname or parts.username or parts.password or parts.fragment:
        return False
    host = parts.hostname.lower()
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
    if origin in extra:
        return True
    if parts.scheme != "https" or port not in (None, 443):
        return False
    for known in KNOWN_ORIGINS:
        pattern = known.removeprefix("https://")
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and fnmatch.fnmatchcase(host, pattern):
                return True
        elif host == pattern:
            return True
    return False


def _key(value: object, size: int, what: str) -> str:
    if not isinstance(value, str) or not value or not set(value) <= _B64URL:
        raise BadSubscription(f"keys.{what} must be base64url.")
    try:
        raw = unb64url(value)
    except (binascii.Error, ValueError):
        raise BadSubscription(f"keys.{what} must be base64url.") from None
    if len(raw) != size:
        raise BadSubscription(f"keys.{what} must hold {size} bytes.")
    return value


def validate(raw: Mapping[str, object], extra_origins: tuple[str, ...] = ()) -> Subscription:
    """A checked subscription with a fresh tag, or BadSubscription (never half-accepted)."""
    endpoint = raw.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise BadSubscription(f"The endpoint must be a URL of at most {MAX_ENDPOINT} characters.")
    if not origin_allowed(endpoint, extra_origins):
        raise BadSubscription("The endpoint is not on a push service this server sends to.")
    keys = raw.get("keys")
    if not isinstance(keys, Mapping):
        raise BadSubscription("keys must be an object with p256dh and auth.")
    p256dh = _key(keys.get("p256dh"), 65, "p256dh")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(p256dh))
    except ValueError:
        raise BadSubscription("keys.p256dh is not a point on P-256.") from None
    if unb64url(p256dh)[0] != 4:
        raise BadSubscription("keys.p256dh must be an uncompressed point.")
    auth = _key(keys.get("auth"), 16, "auth")
    lang = raw.get("lang", "nb")
    if lang not in LANGS:
        raise BadSubscription("lang must be nb, nn or en.")
    assert isinstance(lang, str)
    return Subscription(endpoint=endpoint, p256dh=p256dh, auth=auth, lang=lang,
                        tag=secrets.token_urlsafe(12))
