"""The push room's keys, read from the secrets folder once at start-up.

``vapid_private.pem``: the VAPID key (RFC 8292) the push services know this server by; its
public half (base64url, uncompressed P-256 point) is what browsers subscribe with.
``push.key``: 32 random bytes that seal the stored subscriptions (XChaCha20-Poly1305, with the
conversation id, or the nurse's username, as associated data) and make the Topic header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from nacl import bindings
from nacl.exceptions import CryptoError
from py_vapid import Vapid, VapidException

from chat.errors import ConfigError

VAPID_FILE = "vapid_private.pem"
SEAL_FILE = "push.key"
_NONCE = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


class Unsealable(Exception):
    """A stored subscription that does not open with this key and this associated data."""


@dataclass(frozen=True)
class PushKeys:
    vapid: Vapid
    seal_key: bytes

    @property
    def public_key(self) -> str:
        """The VAPID public key as browsers take it (``applicationServerKey``)."""
        raw = self.vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return b64url(raw)

    def seal(self, plain: bytes, ad: str) -> str:
        return seal(self.seal_key, plain, ad)

    def open(self, sealed: str, ad: str) -> bytes:
        return open_sealed(self.seal_key, sealed, ad)

    def topic(self, name: str) -> str:
        return topic(self.seal_key, name)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(key: bytes, plain: bytes, ad: str) -> str:
    """XChaCha20-Poly1305 with a random nonce; base64url(nonce || ciphertext)."""
    nonce = os.urandom(_NONCE)
    box = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, ad.encode(), nonce, key)
    return b64url(nonce + box)


def open_sealed(key: bytes, sealed: str, ad: str) -> bytes:
    try:
        raw = unb64url(sealed)
        return bytes(bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            raw[_NONCE:], ad.encode(), raw[:_NONCE], key))
    except (CryptoError, ValueError, TypeError):
        raise Unsealable() from None


def topic(key: bytes, name: str) -> str:
    """22 base64url characters (16 bytes of HMAC-SHA256): the same for every notice about one
    conversation (or one nurse), so a push service keeps only the newest, and opaque."""
    mac = hmac.new(key, b"push-topic\x00" + name.encode(), hashlib.sha256).digest()
    return b64url(mac[:16])


def load_push_keys(secrets_dir: Path, required: bool) -> PushKeys | None:
    """The keys; None when they are missing and not ``required`` (dev and test data folders
    made before push existed). A file that is there but wrong is always a ConfigError."""
    vapid_path, seal_path = secrets_dir / VAPID_FILE, secrets_dir / SEAL_FILE
    if not vapid_path.exists() or not seal_path.exists():
        if required:
            missing = vapid_path if not vapid_path.exists() else seal_path
            raise ConfigError(f"cannot read secret file {missing}: the push keys are missing "
                              "(docs/operations.md, Web Push, says how to make them)")
        return None
    try:
        vapid = Vapid.from_pem(vapid_path.read_bytes())
    except (VapidException, ValueError, OSError) as exc:
        raise ConfigError(f"secret file {vapid_path} is not a P-256 private key in PEM "
                          f"({type(exc).__name__})") from None
    seal_key = seal_path.read_bytes()
    if len(seal_key) != 32:
        raise ConfigError(f"secret file {seal_path} must hold exactly 32 bytes")
    return PushKeys(vapid=vapid, seal_key=seal_key)


def write_push_keys(secrets_dir: Path) -> None:
    """Make the two files if missing (the demo and test set-ups; an operator's key ceremony)."""
    secrets_dir.mkdir(parents=True, exist_ok=True)
    vapid_path, seal_path = secrets_dir / VAPID_FILE, secrets_dir / SEAL_FILE
    if not vapid_path.exists():
        vapid = Vapid()
        vapid.generate_keys()
        vapid_path.write_bytes(vapid.private_pem())
        vapid_path.chmod(0o600)
    if not seal_path.exists():
        seal_path.write_bytes(os.urandom(32))
        seal_path.chmod(0o600)
