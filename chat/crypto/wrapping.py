"""Password wrapping of a nurse's device keys (so a nurse can sign in from any workstation).

Blob layout (all big-endian), stored by the server as opaque base64:
    version u8 (=1) ‖ alg u8 (=2, argon2id13) ‖ opslimit u32 ‖ memlimit_kib u32 ‖ salt[16]
    ‖ nonce[24] ‖ XChaCha20-Poly1305(box secret[32] ‖ sign seed[32], AD = the 26 header bytes)

The KDF parameters are recorded so they can be raised later without breaking old blobs, and
they are bound as AD. On unwrap they are bounded: a server handing out a blob with an absurd
memlimit must not be able to freeze the nurse's browser.

Defaults: argon2id opslimit 2, memlimit 64 MiB (libsodium's INTERACTIVE). Measured ~0.3 s in
Node 20's wasm libsodium on the build machine; a slow school PC should stay under ~1 s.
"""

from __future__ import annotations

import unicodedata

from chat.crypto import encoding as enc
from chat.crypto import primitives as p
from chat.crypto.errors import BadEnvelope, DecryptFailed, WrongPassword
from chat.crypto.keys import DeviceKeys, box_keypair_from_secret, sign_keypair

WRAP_VERSION = 1
ALG_ARGON2ID13 = 2  # libsodium's crypto_pwhash_ALG_ARGON2ID13
OPSLIMIT = 2
MEMLIMIT = 64 * 1024 * 1024
SALT_BYTES = 16
# Bounds accepted on unwrap: at least libsodium's minimums, at most what a browser can bear.
MIN_OPSLIMIT, MAX_OPSLIMIT = 1, 10
MIN_MEMLIMIT, MAX_MEMLIMIT = 8 * 1024, 256 * 1024 * 1024
_HEADER_BYTES = 1 + 1 + 4 + 4 + SALT_BYTES
WRAPPED_BYTES = _HEADER_BYTES + p.NONCE_BYTES + 64 + p.TAG_BYTES


def _password_bytes(password: str) -> bytes:
    # NFC so the same password typed on different keyboards / OSes derives the same key.
    return unicodedata.normalize("NFC", password).encode("utf-8")


def _check_limits(opslimit: int, memlimit: int) -> None:
    if not MIN_OPSLIMIT <= opslimit <= MAX_OPSLIMIT:
        raise BadEnvelope("opslimit out of bounds")
    if not MIN_MEMLIMIT <= memlimit <= MAX_MEMLIMIT or memlimit % 1024:
        raise BadEnvelope("memlimit out of bounds")


def wrap_device_keys(
    keys: DeviceKeys,
    password: str,
    *,
    salt: bytes | None = None,
    nonce: bytes | None = None,
    opslimit: int = OPSLIMIT,
    memlimit: int = MEMLIMIT,
) -> bytes:
    """Encrypt the device's secret halves under an argon2id key. ``salt``/``nonce``: tests only."""
    _check_limits(opslimit, memlimit)
    salt = p.random_bytes(SALT_BYTES) if salt is None else salt
    nonce = p.random_bytes(p.NONCE_BYTES) if nonce is None else nonce
    if len(salt) != SALT_BYTES or len(nonce) != p.NONCE_BYTES:
        raise BadEnvelope("bad salt or nonce length")
    header = (
        enc.u8(WRAP_VERSION)
        + enc.u8(ALG_ARGON2ID13)
        + enc.u32(opslimit)
        + enc.u32(memlimit // 1024)
        + salt
    )
    key = p.argon2id(_password_bytes(password), salt, opslimit, memlimit)
    ct = p.aead_encrypt(keys.box.secret_key + keys.sign.seed, header, nonce, key)
    return header + nonce + ct


def unwrap_device_keys(blob: bytes, password: str) -> DeviceKeys:
    """Open a wrapped blob; a wrong password raises WrongPassword (``e2e_wrong_password``)."""
    if len(blob) != WRAPPED_BYTES:
        raise BadEnvelope("wrapped keys have the wrong length")
    r = enc.Reader(blob)
    if r.u8() != WRAP_VERSION or r.u8() != ALG_ARGON2ID13:
        raise BadEnvelope("unknown wrap version or algorithm")
    opslimit = r.u32()
    memlimit = r.u32() * 1024
    _check_limits(opslimit, memlimit)
    salt = r.take(SALT_BYTES)
    nonce = r.take(p.NONCE_BYTES)
    ct = r.rest()
    key = p.argon2id(_password_bytes(password), salt, opslimit, memlimit)
    try:
        secret = p.aead_decrypt(ct, blob[:_HEADER_BYTES], nonce, key)
    except DecryptFailed as exc:
        # Indistinguishable from tampering by design; the likely cause is the password.
        raise WrongPassword("wrong password") from exc
    return DeviceKeys(box=box_keypair_from_secret(secret[:32]), sign=sign_keypair(secret[32:]))
