"""Redis keys of the identity bridge's web layer (kept apart from chat/store/names.py).

Nothing here holds a person identifier, a token or an ID-porten session id in clear: keys
are keyed hashes (HMAC) or SHA-256 of the secret they stand for.
"""

from __future__ import annotations


def person(tag: str) -> str:
    """Hash: ``pid`` sealed (XChaCha20-Poly1305 under the person key), ``created``."""
    return f"yp:{{{tag}}}"


def person_threads(tag: str) -> str:
    """Set of conversation ids linked to the person."""
    return f"yp:{{{tag}}}:t"


def session(tag: str) -> str:
    """A youth's logged-in session, by HMAC of the cookie value."""
    return f"ys:{tag}"


def logout_state(digest: str) -> str:
    return f"ylo:{digest}"


def devices(cid: str) -> str:
    """Hash of a conversation's extra (logged-in) devices: device id -> JSON record.
    Same hash tag as the conversation's other keys."""
    return f"c:{{{cid}}}:dev"


def concern_reports(cid: str) -> str:
    """Hash of a thread's concern reports: report id -> JSON {at, s: [[status, at], ...]}.
    Only the reference and the status history; the report itself is never stored. Same hash
    tag and lifetime as the conversation."""
    return f"c:{{{cid}}}:concern"


def person_access(tag: str) -> str:
    """List (newest first) of JSON {at, k}: when the person's records were fetched and which
    kind. Same hash tag as the person; nothing of the records themselves."""
    return f"yp:{{{tag}}}:access"
