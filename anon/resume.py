"""Resume codes: continue an anonymous conversation on another device.

A code is 11 words from the BIP-39 English list (2048 words, 11 bits each), made on the youth's
device and shown once:
- the first 3 words are a *handle* (33 bits) used only to find the conversation; Redis keeps
  HMAC(server key, handle), so the handle is not stored in clear either;
- the last 8 words are the *secret* (88 bits ≥ the 80 asked for). The device sends the server
  only ``auth`` = BLAKE2b(domain ‖ secret) (chat.crypto.resume), and the server stores only an
  argon2id hash of that. Parameters follow RFC 9106 §4, second recommended option ("low
  memory"): t=3 iterations, m=64 MiB, p=4 lanes, 16-byte salt, 32-byte tag.

Attempts are limited per conversation and per client (see chat.actions.conversations); a wrong code tells the
caller nothing about whether the handle matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY
from mnemonic import Mnemonic

HANDLE_WORDS = 3
SECRET_WORDS = 8
_SPLIT = re.compile(r"[^a-z]+")
_AUTH = re.compile(r"^[0-9a-f]{64}$")


@cache
def _wordlist() -> tuple[tuple[str, ...], dict[str, int]]:
    words = tuple(Mnemonic("english").wordlist)
    return words, {w: i for i, w in enumerate(words)}


def wordlist() -> tuple[str, ...]:
    return _wordlist()[0]


@cache
def hasher() -> PasswordHasher:
    return PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


@dataclass(frozen=True)
class ResumeCode:
    handle: tuple[str, ...]
    secret: tuple[str, ...]

    def __str__(self) -> str:
        return " ".join(self.handle) + " · " + " ".join(self.secret)

    @property
    def handle_text(self) -> str:
        return " ".join(self.handle)

    @property
    def secret_text(self) -> str:
        return " ".join(self.secret)


def new_resume_code() -> ResumeCode:
    words, _ = _wordlist()
    pick = [words[secrets.randbelow(len(words))] for _ in range(HANDLE_WORDS + SECRET_WORDS)]
    return ResumeCode(handle=tuple(pick[:HANDLE_WORDS]), secret=tuple(pick[HANDLE_WORDS:]))


def parse_words(text: str, count: int) -> tuple[str, ...] | None:
    """Lenient parsing: case, spacing and punctuation do not matter; unknown words do."""
    _, index = _wordlist()
    parts = [p for p in _SPLIT.split(text.lower()) if p]
    if len(parts) != count or any(p not in index for p in parts):
        return None
    return tuple(parts)


def parse_resume_code(text: str) -> ResumeCode | None:
    parts = parse_words(text, HANDLE_WORDS + SECRET_WORDS)
    if parts is None:
        return None
    return ResumeCode(handle=parts[:HANDLE_WORDS], secret=parts[HANDLE_WORDS:])


def valid_auth(auth: str) -> bool:
    return bool(_AUTH.match(auth))


def handle_tag(key: bytes, handle: tuple[str, ...]) -> str:
    msg = b"helseprat/resume-handle/v1\x00" + " ".join(handle).encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def hash_auth(auth: str) -> str:
    """Slow (tens of milliseconds): call it off the event loop."""
    return hasher().hash(auth)


def verify_auth(auth: str, stored: str) -> bool:
    """Slow: call it off the event loop."""
    try:
        return hasher().verify(stored, auth)
    except (VerificationError, InvalidHashError):
        return False
