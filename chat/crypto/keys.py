"""Key pairs and key ids.

Secret keys are kept as 32-byte seeds (Ed25519) or scalars (X25519): the smallest thing
that reproduces the pair, so wrapped blobs and vectors stay short and identical in JS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chat.crypto import primitives as p
from chat.crypto.errors import BadEnvelope

KEY_ID_BYTES = 8
_KEY_ID_DOMAIN = b"helseprat/key-id/v1"


@dataclass(frozen=True)
class BoxKeyPair:
    """X25519 key pair (crypto_box / crypto_box_seal)."""

    public_key: bytes
    secret_key: bytes = field(repr=False)


@dataclass(frozen=True)
class SignKeyPair:
    """Ed25519 key pair; ``seed`` is the 32-byte secret, ``secret_key`` libsodium's 64-byte form."""

    public_key: bytes
    seed: bytes = field(repr=False)

    @property
    def secret_key(self) -> bytes:
        return self.seed + self.public_key


@dataclass(frozen=True)
class DeviceKeys:
    """A nurse device (or a youth's logged-in device): one X25519 and one Ed25519 pair."""

    box: BoxKeyPair
    sign: SignKeyPair


def _seed(seed: bytes | None) -> bytes:
    if seed is None:
        return p.random_bytes(32)
    if len(seed) != 32:
        raise BadEnvelope("seed must be 32 bytes")
    return seed


def box_keypair(seed: bytes | None = None) -> BoxKeyPair:
    """New X25519 pair; ``seed`` (tests) makes it deterministic (libsodium's seed_keypair)."""
    pk, sk = p.box_keypair_from_seed(_seed(seed))
    return BoxKeyPair(public_key=pk, secret_key=sk)


def box_keypair_from_secret(secret_key: bytes) -> BoxKeyPair:
    if len(secret_key) != 32:
        raise BadEnvelope("X25519 secret key must be 32 bytes")
    return BoxKeyPair(public_key=p.box_public_from_secret(secret_key), secret_key=secret_key)


def sign_keypair(seed: bytes | None = None) -> SignKeyPair:
    """New Ed25519 pair; ``seed`` (tests) makes it deterministic."""
    s = _seed(seed)
    pk, _sk = p.sign_keypair_from_seed(s)
    return SignKeyPair(public_key=pk, seed=s)


def device_keys(box_seed: bytes | None = None, sign_seed: bytes | None = None) -> DeviceKeys:
    return DeviceKeys(box=box_keypair(box_seed), sign=sign_keypair(sign_seed))


def key_id(sign_public_key: bytes) -> bytes:
    """8-byte sender id: BLAKE2b-256(domain ‖ Ed25519 public key), truncated.

    Truncating a 32-byte digest (rather than asking for 8 bytes) because libsodium's
    generichash refuses outputs under 16 bytes. 64 bits is ample for the handful of
    senders in one conversation; a collision is caught by the signature check anyway.
    """
    if len(sign_public_key) != 32:
        raise BadEnvelope("Ed25519 public key must be 32 bytes")
    return p.blake2b(_KEY_ID_DOMAIN + sign_public_key, 32)[:KEY_ID_BYTES]


def conversation_key(seed: bytes | None = None) -> bytes:
    """A fresh 32-byte conversation key CK (``seed`` returns itself: tests only)."""
    return _seed(seed)
