"""Resume codes that carry the conversation key to a new device, without the server seeing it.

From the 8 secret words of a resume code the youth's device derives two unrelated values:
- ``auth`` (sent to the server, which stores only an argon2id hash of it) proves the code;
- ``wrap`` (never sent) encrypts a backup of the conversation key and the youth's signing seed,
  which the server stores and hands back after a successful ``auth``.
The server therefore can check a code but cannot open the backup. Mirrors static/js/e2e/resume.js.
"""

from __future__ import annotations

from chat.crypto import primitives as p
from chat.crypto.errors import BadEnvelope

AUTH_DOMAIN = b"helseprat/resume-auth/v1\x00"
WRAP_DOMAIN = b"helseprat/resume-wrap/v1\x00"
BACKUP_AD = b"helseprat/resume-backup/v1"
BACKUP_BYTES = p.NONCE_BYTES + 64 + p.TAG_BYTES


def resume_auth(secret_text: str) -> str:
    return p.blake2b(AUTH_DOMAIN + secret_text.encode()).hex()


def resume_wrap_key(secret_text: str) -> bytes:
    return p.blake2b(WRAP_DOMAIN + secret_text.encode())


def seal_backup(wrap_key: bytes, ck: bytes, sign_seed: bytes, nonce: bytes | None = None) -> bytes:
    nonce = nonce or p.random_bytes(p.NONCE_BYTES)
    return nonce + p.aead_encrypt(ck + sign_seed, BACKUP_AD, nonce, wrap_key)


def open_backup(wrap_key: bytes, blob: bytes) -> tuple[bytes, bytes]:
    if len(blob) != BACKUP_BYTES:
        raise BadEnvelope("resume backup has the wrong length")
    plain = p.aead_decrypt(blob[p.NONCE_BYTES:], BACKUP_AD, blob[: p.NONCE_BYTES], wrap_key)
    return plain[:32], plain[32:]
