"""Thin, typed wrappers over the libsodium calls we use (via PyNaCl's bindings).

The only addition to libsodium is ``seal`` with an injectable ephemeral seed: libsodium's
crypto_box_seal draws its ephemeral key internally, so fixed test vectors need the same
construction spelled out (ephemeral X25519 key, nonce = BLAKE2b-192(epk ‖ pk), crypto_box).
Its output is byte-for-byte what crypto_box_seal would produce with that ephemeral key, and
crypto_box_seal_open opens it (tested).
"""

from __future__ import annotations

import nacl.bindings as sb
import nacl.exceptions
import nacl.utils

from chat.crypto.errors import BadEnvelope, BadSignature, DecryptFailed

KEY_BYTES = 32
NONCE_BYTES = sb.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
TAG_BYTES = sb.crypto_aead_xchacha20poly1305_ietf_ABYTES  # 16
SIG_BYTES = sb.crypto_sign_BYTES  # 64
SEAL_OVERHEAD = sb.crypto_box_SEALBYTES  # 48


def random_bytes(n: int) -> bytes:
    return nacl.utils.random(n)


def blake2b(data: bytes, size: int = 32) -> bytes:
    return sb.crypto_generichash_blake2b_salt_personal(data, digest_size=size)


def sign_detached(message: bytes, secret_key: bytes) -> bytes:
    # PyNaCl only binds combined-mode signing; the first 64 bytes are the detached signature.
    return sb.crypto_sign(message, secret_key)[:SIG_BYTES]


def verify_detached(signature: bytes, message: bytes, public_key: bytes) -> None:
    if len(signature) != SIG_BYTES or len(public_key) != sb.crypto_sign_PUBLICKEYBYTES:
        raise BadSignature("bad signature or key length")
    try:
        sb.crypto_sign_open(signature + message, public_key)
    except nacl.exceptions.BadSignatureError as exc:
        raise BadSignature("signature does not verify") from exc


def aead_encrypt(plaintext: bytes, ad: bytes, nonce: bytes, key: bytes) -> bytes:
    return sb.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)


def aead_decrypt(ciphertext: bytes, ad: bytes, nonce: bytes, key: bytes) -> bytes:
    try:
        return sb.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key)
    except nacl.exceptions.CryptoError as exc:
        raise DecryptFailed("AEAD authentication failed") from exc


def seal(message: bytes, recipient_pk: bytes, eph_seed: bytes | None = None) -> bytes:
    """crypto_box_seal; with ``eph_seed`` (32 bytes, tests only) the output is deterministic."""
    if len(recipient_pk) != KEY_BYTES:
        raise BadEnvelope("recipient key must be 32 bytes")
    if eph_seed is None:
        return sb.crypto_box_seal(message, recipient_pk)
    epk, esk = sb.crypto_box_seed_keypair(eph_seed)
    nonce = blake2b(epk + recipient_pk, sb.crypto_box_NONCEBYTES)
    return epk + sb.crypto_box(message, nonce, recipient_pk, esk)


def seal_open(sealed: bytes, public_key: bytes, secret_key: bytes) -> bytes:
    if len(sealed) < SEAL_OVERHEAD:
        raise DecryptFailed("sealed box too short")
    try:
        return sb.crypto_box_seal_open(sealed, public_key, secret_key)
    except nacl.exceptions.CryptoError as exc:
        raise DecryptFailed("sealed box did not open") from exc


def box_public_from_secret(secret_key: bytes) -> bytes:
    return sb.crypto_scalarmult_base(secret_key)


def box_keypair_from_seed(seed: bytes) -> tuple[bytes, bytes]:
    return sb.crypto_box_seed_keypair(seed)


def sign_keypair_from_seed(seed: bytes) -> tuple[bytes, bytes]:
    return sb.crypto_sign_seed_keypair(seed)


def pad(data: bytes, size: int) -> bytes:
    """ISO/IEC 7816-4 padding (0x80 then zeros) to exactly ``size`` bytes (size > len)."""
    return sb.sodium_pad(data, size)


def unpad(data: bytes, size: int) -> bytes:
    try:
        return sb.sodium_unpad(data, size)
    except (nacl.exceptions.CryptoError, ValueError) as exc:
        raise DecryptFailed("bad padding") from exc


def argon2id(password: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return sb.crypto_pwhash_alg(
        KEY_BYTES, password, salt, opslimit, memlimit, sb.crypto_pwhash_ALG_ARGON2ID13
    )
