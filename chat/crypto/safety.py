"""Safety codes and trust-on-first-use pinning of the team root.

The safety code binds the service's team-root key to this conversation's youth key: nurse
and youth can read the 12 digits to each other (in person, by phone) to detect a server
that swapped keys. Digits, not words, so it reads the same in bokmål, nynorsk and English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chat.crypto import primitives as p
from chat.crypto.errors import BadEnvelope

_SAFETY_DOMAIN = b"helseprat/safety-code/v1"
_FINGERPRINT_DOMAIN = b"helseprat/root-fingerprint/v1"

PinStatus = Literal["first_use", "match", "changed"]


def _key32(k: bytes) -> bytes:
    if len(k) != 32:
        raise BadEnvelope("public key must be 32 bytes")
    return k


def safety_code(team_root_public_key: bytes, youth_sign_public_key: bytes) -> str:
    """'dddd dddd dddd': first 8 bytes of BLAKE2b-256(domain ‖ root ‖ youth) mod 10**12.

    The modulo bias (2**64 mod 10**12 over 2**64) is below 2**-24: irrelevant here.
    """
    h = p.blake2b(_SAFETY_DOMAIN + _key32(team_root_public_key) + _key32(youth_sign_public_key))
    digits = f"{int.from_bytes(h[:8], 'big') % 10**12:012d}"
    return " ".join(digits[i : i + 4] for i in range(0, 12, 4))


def root_fingerprint(team_root_public_key: bytes) -> str:
    """Lower-case hex of BLAKE2b-256(domain ‖ root key)[:16]; what the youth's browser stores."""
    return p.blake2b(_FINGERPRINT_DOMAIN + _key32(team_root_public_key))[:16].hex()


@dataclass(frozen=True)
class PinCheck:
    status: PinStatus
    fingerprint: str


def check_root_pin(pinned: str | None, team_root_public_key: bytes) -> PinCheck:
    """Compare a stored fingerprint with the root key the server now presents.

    ``first_use``: nothing pinned yet, store ``fingerprint``. ``changed``: warn the youth and
    do not seal anything until they accept (the caller decides how).
    """
    fp = root_fingerprint(team_root_public_key)
    if pinned is None or pinned == "":
        return PinCheck("first_use", fp)
    return PinCheck("match" if pinned == fp else "changed", fp)
