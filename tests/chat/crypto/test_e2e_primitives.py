"""Primitives against libsodium's own behaviour (PyNaCl), encoding strictness, errors."""

from __future__ import annotations

import nacl.bindings as sb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat.crypto import encoding as enc
from chat.crypto import errors, keys
from chat.crypto import primitives as p
from tests.chat.crypto.e2e_helpers import expect_code


def test_seal_with_injected_ephemeral_is_libsodium_sealed_box() -> None:
    kp = keys.box_keypair()
    sealed = p.seal(b"hello", kp.public_key, bytes(32))
    assert len(sealed) == 5 + sb.crypto_box_SEALBYTES
    assert sb.crypto_box_seal_open(sealed, kp.public_key, kp.secret_key) == b"hello"
    # deterministic with a seed, random without one
    assert p.seal(b"hello", kp.public_key, bytes(32)) == sealed
    assert p.seal(b"hello", kp.public_key) != p.seal(b"hello", kp.public_key)
    assert p.seal_open(p.seal(b"x", kp.public_key), kp.public_key, kp.secret_key) == b"x"


def test_seal_open_failures_are_typed() -> None:
    kp, other = keys.box_keypair(), keys.box_keypair()
    sealed = p.seal(b"x", kp.public_key)
    expect_code("e2e_decrypt", lambda: p.seal_open(sealed, other.public_key, other.secret_key))
    expect_code("e2e_decrypt", lambda: p.seal_open(b"short", kp.public_key, kp.secret_key))


def test_keypairs_match_libsodium() -> None:
    seed = bytes(range(32))
    assert keys.sign_keypair(seed).public_key == sb.crypto_sign_seed_keypair(seed)[0]
    assert keys.sign_keypair(seed).secret_key == sb.crypto_sign_seed_keypair(seed)[1]
    bx = keys.box_keypair(seed)
    assert (bx.public_key, bx.secret_key) == sb.crypto_box_seed_keypair(seed)
    assert keys.box_keypair_from_secret(bx.secret_key) == bx
    assert "secret_key" not in repr(bx) and "seed" not in repr(keys.sign_keypair(seed))


def test_key_id_is_truncated_domain_separated_blake2b() -> None:
    pk = keys.sign_keypair(bytes(32)).public_key
    want = sb.crypto_generichash_blake2b_salt_personal(b"helseprat/key-id/v1" + pk)[:8]
    assert keys.key_id(pk) == want
    expect_code("e2e_bad_envelope", lambda: keys.key_id(b"short"))


@given(st.binary(max_size=300), st.sampled_from([256, 1024]))
def test_pad_is_iso7816_and_round_trips(data: bytes, size: int) -> None:
    if len(data) >= size:
        return
    padded = p.pad(data, size)
    assert len(padded) == size
    assert padded == data + b"\x80" + bytes(size - len(data) - 1)
    assert p.unpad(padded, size) == data


def test_unpad_rejects_garbage() -> None:
    expect_code("e2e_decrypt", lambda: p.unpad(bytes(256), 256))


def test_signatures() -> None:
    kp = keys.sign_keypair()
    sig = p.sign_detached(b"m", kp.secret_key)
    p.verify_detached(sig, b"m", kp.public_key)
    expect_code("e2e_bad_signature", lambda: p.verify_detached(sig, b"n", kp.public_key))
    expect_code("e2e_bad_signature", lambda: p.verify_detached(sig[:10], b"m", kp.public_key))


@pytest.mark.parametrize("bad", ["Zg", "Zg=", "Zh==", "Z g==", "_-8=", "Zm9v\n", "ü"])
def test_base64_is_strict(bad: str) -> None:
    expect_code("e2e_bad_envelope", lambda: enc.b64decode(bad))


def test_integers_and_text() -> None:
    assert enc.u64(2**53 - 1) == b"\x00\x1f" + b"\xff" * 6
    expect_code("e2e_bad_envelope", lambda: enc.u64(2**53))
    expect_code("e2e_bad_envelope", lambda: enc.text(""))
    expect_code("e2e_bad_envelope", lambda: enc.text("x" * 256))
    r = enc.Reader(b"\x00\x02\xff\xfe")
    expect_code("e2e_bad_envelope", r.text)


def test_error_codes_are_stable_and_unique() -> None:
    assert len(set(errors.ALL_CODES)) == len(errors.ALL_CODES)
    assert {
        "e2e_bad_signature",
        "e2e_decrypt",
        "e2e_replay",
        "e2e_unknown_sender",
        "e2e_stale_epoch",
        "e2e_bad_envelope",
        "e2e_wrong_password",
    } <= set(errors.ALL_CODES)
    assert all(issubclass(type(e), errors.E2EError) for e in (errors.Replay(), errors.TooLarge()))
