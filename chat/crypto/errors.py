"""One exception hierarchy for the end-to-end layer.

Every error carries a stable machine ``code`` (the same strings as the JS module's
``E2EError.code``) so clients can map it to a message and the server can log it without
ever logging key material or plaintext. Messages are short and contain no secrets.
"""

from __future__ import annotations

from typing import ClassVar


class E2EError(Exception):
    """Base class; catch this to handle any end-to-end failure."""

    code: ClassVar[str] = "e2e_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)


class BadEnvelope(E2EError):
    """Bytes that do not parse: wrong version, wrong length, bad base64, bad field."""

    code = "e2e_bad_envelope"


class BadSignature(E2EError):
    """An Ed25519 signature (message, statement) does not verify."""

    code = "e2e_bad_signature"


class DecryptFailed(E2EError):
    """AEAD or sealed box failed to open, or the padding inside is malformed."""

    code = "e2e_decrypt"


class Replay(E2EError):
    """This sender's sequence number was already accepted (or is too old to tell)."""

    code = "e2e_replay"


class UnknownSender(E2EError):
    """The sender key id is not among this conversation's known senders."""

    code = "e2e_unknown_sender"


class StaleEpoch(E2EError):
    """An epoch that has been superseded where the current one is required."""

    code = "e2e_stale_epoch"


class UnknownEpoch(E2EError):
    """An epoch newer than any this client knows: refresh the team statement and retry."""

    code = "e2e_unknown_epoch"


class WrongPassword(E2EError):
    """The password-wrapped device keys did not open: wrong password (or corrupted blob)."""

    code = "e2e_wrong_password"


class TooLarge(E2EError):
    """Plaintext larger than the largest padding bucket."""

    code = "e2e_too_large"


class KeyMismatch(E2EError):
    """Opened key material does not match the public key it claims to belong to."""

    code = "e2e_key_mismatch"


ALL_CODES: tuple[str, ...] = tuple(
    cls.code
    for cls in (
        E2EError,
        BadEnvelope,
        BadSignature,
        DecryptFailed,
        Replay,
        UnknownSender,
        StaleEpoch,
        UnknownEpoch,
        WrongPassword,
        TooLarge,
        KeyMismatch,
    )
)
