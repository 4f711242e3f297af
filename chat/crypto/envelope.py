"""The message envelope: what travels (as base64) in the protocol's opaque ``body`` field.

Byte layout (big-endian):
    off  len  field
    0    1    version (=1)
    1    4    epoch u32            team epoch the sender's CK bundle is sealed to
    5    8    sender key id        keys.key_id(sender Ed25519 public key)
    13   8    sequence u64         the *sender's own* per-conversation counter (< 2**53)
    21   24   nonce                random, XChaCha20-Poly1305-IETF
    45   n    ciphertext           n = bucket + 16; bucket ∈ PAD_BUCKETS
    45+n 64   signature            Ed25519 over SIG_DOMAIN ‖ AD ‖ nonce ‖ ciphertext

AD = header (bytes 0..20) ‖ u16 len ‖ conversation id (UTF-8). The conversation id is not
sent (both ends know it) but is in the AD and under the signature, so an envelope moved to
another conversation fails. The server's stream sequence is assigned after encryption, so
only the sender's counter can be authenticated; replay checks use it (session.py).
Signing the ciphertext (not only AEAD) is what tells members apart: CK is shared by the
youth and every team member, so AEAD alone would let any member forge the youth's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.crypto import encoding as enc
from chat.crypto import primitives as p
from chat.crypto.errors import BadEnvelope, DecryptFailed, TooLarge
from chat.crypto.keys import KEY_ID_BYTES, SignKeyPair, key_id

ENVELOPE_VERSION = 1
PAD_BUCKETS: tuple[int, ...] = (256, 1024, 4096, 16384)
MAX_PLAINTEXT = PAD_BUCKETS[-1] - 1  # ISO 7816-4 padding always adds at least one byte
SIG_DOMAIN = b"helseprat/envelope-sig/v1"
HEADER_BYTES = 1 + 4 + KEY_ID_BYTES + 8
OVERHEAD = HEADER_BYTES + p.NONCE_BYTES + p.TAG_BYTES + p.SIG_BYTES  # 125
MAX_BODY_CHARS = 64 * 1024  # the protocol's limit for the base64 body


@dataclass(frozen=True)
class Envelope:
    version: int
    epoch: int
    sender_key_id: bytes
    sequence: int
    nonce: bytes
    ciphertext: bytes
    signature: bytes

    @property
    def header(self) -> bytes:
        return (
            enc.u8(self.version) + enc.u32(self.epoch) + self.sender_key_id + enc.u64(self.sequence)
        )


def bucket_for(length: int) -> int:
    for size in PAD_BUCKETS:
        if length < size:
            return size
    raise TooLarge(f"plaintext over {MAX_PLAINTEXT} bytes")


def associated_data(header: bytes, conversation_id: str) -> bytes:
    return header + enc.text(conversation_id)


def _signed_part(env: Envelope, conversation_id: str) -> bytes:
    return SIG_DOMAIN + associated_data(env.header, conversation_id) + env.nonce + env.ciphertext


def encode_envelope(env: Envelope) -> bytes:
    return env.header + env.nonce + env.ciphertext + env.signature


def decode_envelope(data: bytes) -> Envelope:
    r = enc.Reader(data)
    version = r.u8()
    if version != ENVELOPE_VERSION:
        raise BadEnvelope("unknown envelope version")
    epoch = r.u32()
    kid = r.take(KEY_ID_BYTES)
    seq = r.u64()
    nonce = r.take(p.NONCE_BYTES)
    ct_len = r.remaining() - p.SIG_BYTES
    if ct_len - p.TAG_BYTES not in PAD_BUCKETS:
        raise BadEnvelope("ciphertext length is not a padding bucket")
    ct = r.take(ct_len)
    sig = r.take(p.SIG_BYTES)
    r.end()
    return Envelope(version, epoch, kid, seq, nonce, ct, sig)


def envelope_to_body(data: bytes) -> str:
    return enc.b64encode(data)


def body_to_envelope(body: str) -> bytes:
    if len(body) > MAX_BODY_CHARS:
        raise BadEnvelope("body too large")
    return enc.b64decode(body)


def encrypt_envelope(
    ck: bytes,
    conversation_id: str,
    epoch: int,
    sender: SignKeyPair,
    sequence: int,
    plaintext: bytes,
    nonce: bytes | None = None,
) -> bytes:
    """Pad, encrypt and sign; returns envelope bytes. ``nonce``: tests only."""
    nonce = p.random_bytes(p.NONCE_BYTES) if nonce is None else nonce
    if len(nonce) != p.NONCE_BYTES or len(ck) != 32:
        raise BadEnvelope("bad nonce or key length")
    padded = p.pad(plaintext, bucket_for(len(plaintext)))
    unsigned = Envelope(
        ENVELOPE_VERSION, epoch, key_id(sender.public_key), sequence, nonce, b"", b""
    )
    ct = p.aead_encrypt(padded, associated_data(unsigned.header, conversation_id), nonce, ck)
    env = Envelope(ENVELOPE_VERSION, epoch, unsigned.sender_key_id, sequence, nonce, ct, b"")
    sig = p.sign_detached(_signed_part(env, conversation_id), sender.secret_key)
    return encode_envelope(
        Envelope(env.version, env.epoch, env.sender_key_id, sequence, nonce, ct, sig)
    )


def verify_envelope(env: Envelope, conversation_id: str, sender_public_key: bytes) -> None:
    """Signature check alone (BadSignature); callers do it before any decryption."""
    if key_id(sender_public_key) != env.sender_key_id:
        raise BadEnvelope("sender key does not match the key id")
    p.verify_detached(env.signature, _signed_part(env, conversation_id), sender_public_key)


def decrypt_envelope(env: Envelope, ck: bytes, conversation_id: str) -> bytes:
    """Decrypt and unpad an envelope whose signature has been verified."""
    padded = p.aead_decrypt(
        env.ciphertext, associated_data(env.header, conversation_id), env.nonce, ck
    )
    try:
        return p.unpad(padded, len(padded))
    except DecryptFailed as exc:
        raise DecryptFailed("bad padding") from exc
