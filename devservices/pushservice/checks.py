"""What a push service checks in a push request: the VAPID token (RFC 8292), the RFC 8030
header fields, and the RFC 8291 ``aes128gcm`` payload. Pure functions; no I/O."""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
from dataclasses import dataclass
from typing import Any

import http_ece  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MAX_EXP_AHEAD_S = 24 * 3600  # RFC 8292 §2: exp no more than 24 hours from the request
MAX_PAYLOAD = 4096  # RFC 8030 §7.2: what every push service must take; more is 413
URGENCIES = frozenset({"very-low", "low", "normal", "high"})
TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")  # RFC 8030 §5.4
TTL = re.compile(r"[0-9]{1,10}")
KEYID_LEN = 65  # RFC 8291 §4: the keyid is the sender's uncompressed P-256 public key
HEADER_LEN = 16 + 4 + 1 + KEYID_LEN


class Refused(Exception):
    """A push refused: the HTTP status, a stable code and a sentence for the sender."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Vapid:
    """A checked VAPID credential: the signer's public key (base64url) and its claims."""

    key: str
    sub: str
    exp: int


def b64url_decode(text: str) -> bytes:
    text = text.strip().strip('"')
    if not re.fullmatch(r"[A-Za-z0-9_-]*=*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def parse_authorization(header: str | None) -> tuple[str, str]:
    """``vapid t=<jwt>, k=<key>`` → (jwt, key). Absent or another scheme → 401."""
    if not header:
        raise Refused(401, "missing_vapid", "Authorization: vapid t=…, k=… is required")
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "vapid":
        raise Refused(401, "missing_vapid", "only the vapid authentication scheme is accepted")
    params: dict[str, str] = {}
    for part in rest.split(","):
        name, eq, value = part.strip().partition("=")
        if eq:
            params[name.strip().lower()] = value.strip().strip('"')
    if not params.get("t") or not params.get("k"):
        raise Refused(401, "missing_vapid", "the vapid credentials need both t and k")
    return params["t"], params["k"]


def public_key(k: str) -> ec.EllipticCurvePublicKey:
    try:
        raw = b64url_decode(k)
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError("not an uncompressed point")
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except (ValueError, binascii.Error) as exc:
        raise Refused(403, "bad_vapid_key", "k is not an uncompressed P-256 public key") from exc


def _jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    try:
        head_b64, claims_b64, sig_b64 = token.split(".")
        head = json.loads(b64url_decode(head_b64))
        claims = json.loads(b64url_decode(claims_b64))
        sig = b64url_decode(sig_b64)
    except (ValueError, binascii.Error) as exc:
        raise Refused(403, "bad_jwt", "t is not a compact JWS") from exc
    if not isinstance(head, dict) or not isinstance(claims, dict):
        raise Refused(403, "bad_jwt", "the JWT header and claims must be JSON objects")
    return head, claims, sig, f"{head_b64}.{claims_b64}".encode("ascii")


def verify_vapid(header: str | None, origin: str, now: float,
                 restricted_to: str | None = None) -> Vapid:
    """RFC 8292: an ES256 JWT signed by k, for this origin, not expired, ≤ 24 h ahead, with a
    contact ``sub``; on a restricted subscription k must be its application server key."""
    token, k = parse_authorization(header)
    key = public_key(k)
    head, claims, sig, signed = _jwt_parts(token)
    if head.get("alg") != "ES256" or head.get("typ", "JWT").upper() != "JWT":
        raise Refused(403, "bad_jwt", "the JWT must be typ JWT, alg ES256")
    if len(sig) != 64:
        raise Refused(403, "bad_signature", "an ES256 signature is 64 bytes (r || s)")
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise Refused(403, "bad_signature", "the JWT is not signed by k") from exc
    if claims.get("aud") != origin:
        raise Refused(403, "wrong_aud", f"aud must be {origin}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise Refused(403, "bad_exp", "exp must be an integer (seconds since the epoch)")
    if exp <= now:
        raise Refused(403, "expired", "the JWT has expired")
    if exp > now + MAX_EXP_AHEAD_S:
        raise Refused(403, "exp_too_far", "exp may be at most 24 hours ahead")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
        raise Refused(403, "bad_sub", "sub must be a mailto: or https: contact URI")
    canonical = b64url(b64url_decode(k))
    if restricted_to is not None and canonical != restricted_to:
        raise Refused(403, "key_mismatch", "k is not the subscription's application server key")
    return Vapid(key=canonical, sub=sub, exp=exp)


def parse_ttl(value: str | None) -> int:
    if value is None:
        raise Refused(400, "missing_ttl", "the TTL header is required")
    if not TTL.fullmatch(value.strip()):
        raise Refused(400, "bad_ttl", "TTL must be a non-negative integer (seconds)")
    return int(value.strip())


def parse_urgency(value: str | None) -> str | None:
    if value is not None and value.strip().lower() not in URGENCIES:
        raise Refused(400, "bad_urgency", "Urgency must be very-low, low, normal or high")
    return None if value is None else value.strip().lower()


def parse_topic(value: str | None) -> str | None:
    if value is not None and not TOPIC.fullmatch(value.strip()):
        raise Refused(400, "bad_topic", "Topic must be 1 to 32 base64url characters")
    return None if value is None else value.strip()


def decrypt(body: bytes, private_key: ec.EllipticCurvePrivateKey, auth_secret: bytes) -> bytes:
    """RFC 8291: one aes128gcm record keyed by ECDH(ua key, keyid) and the auth secret."""
    if len(body) < HEADER_LEN + 17:
        raise Refused(400, "decryption_failed", "the body is shorter than an aes128gcm record")
    (rs,) = struct.unpack("!L", body[16:20])
    if body[20] != KEYID_LEN:
        raise Refused(400, "decryption_failed", "the keyid must be the 65-byte sender key")
    if rs < 18 or len(body) - HEADER_LEN > rs:
        raise Refused(400, "decryption_failed", "a push message is one record (rs too small)")
    try:
        plain: bytes = http_ece.decrypt(body, private_key=private_key, dh=None,
                                        auth_secret=auth_secret, version="aes128gcm")
    except (http_ece.ECEException, ValueError) as exc:
        raise Refused(400, "decryption_failed", "the payload does not decrypt") from exc
    return plain
