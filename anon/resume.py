"""Resume codes: continue an anonymous conversation on another device.

A code is 16 characters of Crockford's base32 (digits and capital letters without I, L, O, U:
5 bits each, so 80 bits), shown as four groups of four ("7K3M-Q9TD-2HXA-WB4R"), made on the
youth's device and shown once. Typing is forgiving: case, spaces and dashes do not matter, and
O reads as 0, I and L as 1 (docs/crypto.md says why this format):
- the 16 characters are the *secret* (80 bits). The device sends the server only ``auth`` =
  BLAKE2b(domain ‖ secret) (chat.crypto.resume), and the server stores only an argon2id hash of
  that. Parameters follow RFC 9106 §4, second recommended option ("low memory"): t=3
  iterations, m=64 MiB, p=4 lanes, 16-byte salt, 32-byte tag;
- the *handle* that finds the conversation is derived from the secret on the device
  (SHA-256(domain ‖ secret), first 80 bits, in the same alphabet), so the youth has one thing to
  keep. Redis keeps only HMAC(server key, handle), so the handle is not stored in clear either.

Attempts are limited per conversation and per client (see chat.actions.conversations); a wrong code tells the
caller nothing about whether the handle matched.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
GROUP = 4  # characters per group
SECRET_GROUPS = 4  # 16 characters: 80 bits
HANDLE_WORDS = 4  # the handle, in groups of GROUP characters (derived, never shown)
SECRET_WORDS = SECRET_GROUPS
HANDLE_DOMAIN = "helseprat/resume-handle/v2\x00"
# What people write for the letters the alphabet leaves out.
_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.·]+")
_AUTH = re.compile(r"^[0-9a-f]{64}$")


@cache
def hasher() -> PasswordHasher:
    return PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


def _groups(chars: str) -> tuple[str, ...]:
    return tuple(chars[i:i + GROUP] for i in range(0, len(chars), GROUP))


def _base32(data: bytes, chars: int) -> str:
    n = int.from_bytes(data, "big") >> (len(data) * 8 - chars * 5)
    return "".join(ALPHABET[(n >> (5 * (chars - 1 - i))) & 31] for i in range(chars))


def derive_handle(secret: str) -> tuple[str, ...]:
    """The handle of a secret (16 normalised characters), as the device computes it."""
    digest = hashlib.sha256((HANDLE_DOMAIN + secret).encode()).digest()
    return _groups(_base32(digest[:10], HANDLE_WORDS * GROUP))


@dataclass(frozen=True)
class ResumeCode:
    handle: tuple[str, ...]
    secret: tuple[str, ...]

    def __str__(self) -> str:
        """What the youth is shown and keeps: the secret, in groups."""
        return "-".join(self.secret)

    @property
    def handle_text(self) -> str:
        return "-".join(self.handle)

    @property
    def secret_text(self) -> str:
        """The 16 characters without separators: what auth and the wrap key are made from."""
        return "".join(self.secret)


def new_resume_code() -> ResumeCode:
    secret = "".join(secrets.choice(ALPHABET) for _ in range(SECRET_GROUPS * GROUP))
    return ResumeCode(handle=derive_handle(secret), secret=_groups(secret))


def parse_words(text: str, count: int) -> tuple[str, ...] | None:
    """``count`` groups of the alphabet, leniently: case, spaces and dashes do not matter,
    O is 0 and I, L are 1; anything else outside the alphabet does."""
    chars = _SEPARATORS.sub("", text).upper().translate(_READS_AS)
    if len(chars) != count * GROUP or any(c not in ALPHABET for c in chars):
        return None
    return _groups(chars)


def parse_resume_code(text: str) -> ResumeCode | None:
    secret = parse_words(text, SECRET_GROUPS)
    if secret is None:
        return None
    return ResumeCode(handle=derive_handle("".join(secret)), secret=secret)


def js_constants() -> str:
    """The format's constants for the browser (static/js/resumecode.gen.js, by the Makefile)."""
    return (f"export const ALPHABET = {ALPHABET!r};\nexport const GROUP = {GROUP};\n"
            f"export const SECRET_GROUPS = {SECRET_GROUPS};\nexport const HANDLE_GROUPS = "
            f"{HANDLE_WORDS};\nexport const HANDLE_DOMAIN = {HANDLE_DOMAIN!r};\n").replace("'", '"')


def valid_auth(auth: str) -> bool:
    return bool(_AUTH.match(auth))


def handle_tag(key: bytes, handle: tuple[str, ...]) -> str:
    msg = b"helseprat/resume-handle/v1\x00" + " ".join(handle).encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def hash_auth(auth: str) -> str:
    """Slow (tens of milliseconds): call it off the event loop."""
    return hasher().hash(auth)


log = logging.getLogger("helseprat.anon")

# An argon2id hash, made with hasher()'s parameters, of a random value nobody kept. A try
# whose handle finds no code is verified against it, so it costs the same argon2 work as a
# wrong code for a known handle and the time taken does not tell whether the handle exists.
# tests/anon keeps its parameters equal to hasher()'s.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$nujJHOqgMJWoTucbwF4gBQ$W+69GC2cv+8nuBmjYNZa1UyhF79zk+nklO2ATXvplBA"


def verify_auth(auth: str, stored: str | None) -> bool:
    """Slow: call it off the event loop. ``stored`` None (no such handle, or no code set) does
    the same work against DUMMY_HASH and answers False. One log line per verification (no
    handle, no outcome): it lets an operator, and the tests, count the argon2 work."""
    ok: bool
    try:
        ok = hasher().verify(stored or DUMMY_HASH, auth)
    except (VerificationError, InvalidHashError):
        ok = False
    log.info("resume code verified")
    return ok and stored is not None
