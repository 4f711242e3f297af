"""The stand-in's checks as pure functions: the edges the socket tests do not pin down."""

from __future__ import annotations

import os
import struct

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devservices.pushservice.checks import (
    MAX_EXP_AHEAD_S,
    Refused,
    decrypt,
    parse_authorization,
    parse_topic,
    parse_ttl,
    parse_urgency,
    verify_vapid,
)
from tests.devservices.test_pushservice import public_k, sign_jwt

ORIGIN = "http://127.0.0.1:4000"
NOW = 1_800_000_000.0
KEY = ec.generate_private_key(ec.SECP256R1())


def header(exp: object, **claims: object) -> str:
    exp = int(exp) if isinstance(exp, float) else exp
    token = sign_jwt(KEY, {"aud": ORIGIN, "exp": exp, "sub": "mailto:a@b.invalid"} | claims)
    return f"vapid t={token}, k={public_k(KEY)}"


def code(fn: object, *args: object) -> str:
    with pytest.raises(Refused) as err:
        fn(*args)  # type: ignore[operator]
    return err.value.code


def test_authorization_forms() -> None:
    assert parse_authorization("vapid t=a.b.c,k=KEY") == ("a.b.c", "KEY")  # py-vapid's form
    assert parse_authorization('Vapid t="a.b.c", k="KEY"') == ("a.b.c", "KEY")
    assert code(parse_authorization, "vapid k=KEY") == "missing_vapid"
    assert code(parse_authorization, "vapidt=a.b.c,k=KEY") == "missing_vapid"


def test_exp_edges() -> None:
    assert verify_vapid(header(NOW + MAX_EXP_AHEAD_S), ORIGIN, NOW).exp == NOW + MAX_EXP_AHEAD_S
    assert code(verify_vapid, header(NOW + MAX_EXP_AHEAD_S + 1), ORIGIN, NOW) == "exp_too_far"
    assert code(verify_vapid, header(NOW), ORIGIN, NOW) == "expired"
    assert verify_vapid(header(NOW + 1), ORIGIN, NOW).sub == "mailto:a@b.invalid"
    assert code(verify_vapid, header(True), ORIGIN, NOW) == "bad_exp"
    assert code(verify_vapid, header(NOW + 60), ORIGIN + "/", NOW) == "wrong_aud"


def test_header_fields() -> None:
    assert parse_ttl(" 0 ") == 0 and parse_ttl("345600") == 345600
    assert code(parse_ttl, "1.5") == "bad_ttl"
    assert parse_urgency(None) is None and parse_urgency("High") == "high"
    assert parse_topic("a" * 32) == "a" * 32 and code(parse_topic, "") == "bad_topic"


def test_a_payload_must_be_one_record_keyed_to_the_subscription() -> None:
    ua = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    ua_pub = ua.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def seal(data: bytes, rs: int = 4096) -> bytes:
        sender = ec.generate_private_key(ec.SECP256R1())
        body: bytes = http_ece.encrypt(data, private_key=sender, dh=ua_pub, auth_secret=auth,
                                       version="aes128gcm", rs=rs)
        return body

    assert decrypt(seal(b"hello"), ua, auth) == b"hello"
    assert code(decrypt, seal(b"x" * 100, rs=40), ua, auth) == "decryption_failed"  # two records
    body = seal(b"hello")
    assert code(decrypt, body, ua, os.urandom(16)) == "decryption_failed"  # another auth secret
    short_keyid = body[:20] + struct.pack("!B", 64) + body[21:]
    assert code(decrypt, short_keyid, ua, auth) == "decryption_failed"
