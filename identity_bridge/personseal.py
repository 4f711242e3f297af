"""Person identifiers at rest: sealed with the server's person key, found by a keyed tag.

The pid (fødselsnummer or D-number) is sealed with XChaCha20-Poly1305 under a key derived
from ``person_key``; the only thing in clear is ``tag = HMAC-SHA256(tag key, pid)``, so the
same person finds the same threads on every device while a Redis dump holds no number.
The same sealing protects the id_token kept as the logout hint (it carries the pid).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from chat.crypto import primitives as p

_SEAL_DOMAIN = b"helseprat/person-seal/v1"
_TAG_DOMAIN = b"helseprat/person-tag/v1"
_ID_DOMAIN = b"helseprat/record-id/v1"
_VERSION = b"\x01"


def _derive(key: bytes, domain: bytes) -> bytes:
    return hashlib.blake2b(domain, key=key, digest_size=32).digest()


@dataclass(frozen=True)
class PersonSealer:
    person_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.person_key) != 32:
            raise ValueError("person key must be 32 bytes")

    @property
    def _seal_key(self) -> bytes:
        return _derive(self.person_key, _SEAL_DOMAIN)

    def tag(self, pid: str) -> str:
        return hmac.new(_derive(self.person_key, _TAG_DOMAIN), pid.encode(), hashlib.sha256).hexdigest()

    def record_id(self, value: str) -> str:
        """A keyed id for something that must not appear in clear in a key name (an EPJ's
        appointment UID, say): 32 hex characters, another key than the person tag's."""
        return hmac.new(_derive(self.person_key, _ID_DOMAIN), value.encode(),
                        hashlib.sha256).hexdigest()[:32]

    def seal(self, value: str, context: str) -> bytes:
        """``context`` (e.g. the person tag) is bound as AD: a sealed value moved to another
        record does not open."""
        nonce = p.random_bytes(p.NONCE_BYTES)
        ad = _VERSION + context.encode()
        return _VERSION + nonce + p.aead_encrypt(value.encode(), ad, nonce, self._seal_key)

    def open(self, sealed: bytes, context: str) -> str:
        if sealed[:1] != _VERSION:
            raise ValueError("unknown sealed value version")
        nonce = sealed[1:1 + p.NONCE_BYTES]
        ad = _VERSION + context.encode()
        return p.aead_decrypt(sealed[1 + p.NONCE_BYTES:], ad, nonce, self._seal_key).decode()


def parse_person_key(raw: bytes) -> bytes:
    """32 raw bytes, or 64 hex characters (what the dev set-up writes); ValueError if not."""
    if len(raw) == 32:
        return raw
    try:
        key = bytes.fromhex(raw.strip().decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != 32:
        raise ValueError("a person key holds 32 bytes (64 hex characters)")
    return key
