"""Anonymous capability tokens: 256 random bits held by the youth's browser.

Redis keeps only HMAC-SHA-256(server key, token); a copy of Redis therefore cannot be used to
take over a conversation. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh capability token, URL-safe base64 (43 characters, 256 bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(key: bytes, token: str) -> str:
    return hmac.new(key, b"helseprat/token/v1\x00" + token.encode(), hashlib.sha256).hexdigest()


def token_matches(key: bytes, token: str, stored_hash: str | bytes | None) -> bool:
    if not stored_hash:
        return False
    if isinstance(stored_hash, bytes):
        stored_hash = stored_hash.decode("ascii", "replace")
    return hmac.compare_digest(token_hash(key, token), stored_hash)


def new_conversation_id() -> str:
    """A random, unguessable conversation id (128 bits, URL-safe). Not a secret by itself."""
    return secrets.token_urlsafe(16)


def fair_use_tag(key: bytes, token: str) -> str:
    """The name fair use counts a capability under (chat/store/fairuse.py): keyed like the
    token hash but in its own domain, so the fair-use keys' names are not the value the
    conversation hash holds to check the token; 128 bits are plenty for a name."""
    return hmac.new(key, b"helseprat/fair-use/v1\x00" + token.encode(),
                    hashlib.sha256).hexdigest()[:32]
