"""Journal boundary: the nurse's browser seals the note to the EPJ gateway's X25519 key;
only the ``epj`` worker (holding the gateway secret key) can open it. Plain UTF-8 inside,
no tag, so a non-helseprat gateway can open it with any libsodium crypto_box_seal_open."""

from __future__ import annotations

from chat.crypto import primitives as p
from chat.crypto.errors import DecryptFailed
from chat.crypto.keys import BoxKeyPair


def seal_journal_note(note: str, gateway_public_key: bytes, eph_seed: bytes | None = None) -> bytes:
    return p.seal(note.encode("utf-8"), gateway_public_key, eph_seed)


def open_journal_note(sealed: bytes, gateway: BoxKeyPair) -> str:
    raw = p.seal_open(sealed, gateway.public_key, gateway.secret_key)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecryptFailed("journal note is not UTF-8") from exc
