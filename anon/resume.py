"""Resume codes: continue an anonymous conversation on another device.

A code is 11 words from the BIP-39 English list (2048 words, 11 bits each):
- the first 3 words are a *handle* (33 bits) used only to find the conversation; Redis keeps
  HMAC(server key, handle), so the handle is not stored in clear either;
- the last 8 words are the *secret* (88 bits ≥ the 80 asked for), stored only as an argon2id
  hash. Its parameters follow RFC 9106 §4, second recommended option ("low memory"):
  t=3 iterations, m=64 MiB, p=4 lanes, 16-byte salt, 32-byte tag.

Attempts are limited per conversation and per client (see anon.ratelimit); a wrong code tells
the caller nothing about whether the handle matched.
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


@cache
def _wordlist() -> tuple[tuple[str, ...], dict[str, int]]:
    words = tuple(Mnemonic("english").wordlist)
    return words, {w: i for i, w in enumerate(words)}


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
    def secret_text(self) -> str:
        return " ".join(self.secret)


def new_resume_code() -> ResumeCode:
    words, _ = _wordlist()
    pick = [words[secrets.randbelow(len(words))] for _ in range(HANDLE_WORDS + SECRET_WORDS)]
    return ResumeCode(handle=tuple(pick[:HANDLE_WORDS]), secret=tuple(pick[HANDLE_WORDS:]))


def parse_resume_code(text: str) -> ResumeCode | None:
    """Lenient parsing: case, spacing and punctuation do not matter; unknown words do."""
    _, index = _wordlist()
    parts = [p for p in _SPLIT.split(text.lower()) if p]
    if len(parts) != HANDLE_WORDS + SECRET_WORDS or any(p not in index for p in parts):
        return None
    return ResumeCode(handle=tuple(parts[:HANDLE_WORDS]), secret=tuple(parts[HANDLE_WORDS:]))


def handle_tag(key: bytes, code: ResumeCode) -> str:
    msg = b"helseprat/resume-handle/v1\x00" + " ".join(code.handle).encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def hash_secret(code: ResumeCode) -> str:
    """Slow (tens of milliseconds): call it off the event loop."""
    return hasher().hash(code.secret_text)


def verify_secret(code: ResumeCode, stored: str) -> bool:
    """Slow: call it off the event loop."""
    try:
        return hasher().verify(stored, code.secret_text)
    except (VerificationError, InvalidHashError):
        return False
