"""Password wrapping of nurse device keys (argon2id + XChaCha20-Poly1305)."""

from __future__ import annotations

import time
import unicodedata

import nacl.bindings as sb

from chat.crypto import WrongPassword, device_keys, unwrap_device_keys, wrap_device_keys
from chat.crypto import wrapping as w
from tests.chat.crypto.e2e_helpers import expect_code

FAST = {"opslimit": 1, "memlimit": 8 * 1024 * 1024}


def test_round_trip_with_default_limits_is_interactive() -> None:
    dev = device_keys()
    t0 = time.perf_counter()
    blob = wrap_device_keys(dev, "riktig hest batteri stift")
    assert time.perf_counter() - t0 < 2.0  # natively ~0.1 s; wasm in a browser is slower
    assert len(blob) == w.WRAPPED_BYTES == 130
    assert blob[:10] == b"\x01\x02\x00\x00\x00\x02\x00\x01\x00\x00"  # v1, argon2id, 2, 64 MiB
    assert unwrap_device_keys(blob, "riktig hest batteri stift") == dev
    assert (w.OPSLIMIT, w.MEMLIMIT) == (
        sb.crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
        sb.crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE,
    )


def test_wrong_password_is_a_clean_typed_failure() -> None:
    blob = wrap_device_keys(device_keys(), "pass", **FAST)
    try:
        unwrap_device_keys(blob, "Pass")
    except WrongPassword as exc:
        assert exc.code == "e2e_wrong_password"
        assert "pass" not in str(exc).lower().replace("password", "")
    else:
        raise AssertionError("expected WrongPassword")


def test_password_is_nfc_normalised() -> None:
    dev = device_keys()
    blob = wrap_device_keys(dev, "blåbær", **FAST)
    assert unwrap_device_keys(blob, unicodedata.normalize("NFD", "blåbær")) == dev


def test_kdf_parameters_are_authenticated_and_bounded() -> None:
    blob = bytearray(wrap_device_keys(device_keys(), "pw", **FAST))
    tampered = bytes(blob[:2]) + b"\x00\x00\x00\x02" + bytes(blob[6:])  # opslimit 1 -> 2
    expect_code("e2e_wrong_password", lambda: unwrap_device_keys(tampered, "pw"))
    huge = bytes(blob[:6]) + b"\x00\x40\x00\x00" + bytes(blob[10:])  # 4 GiB memlimit
    expect_code("e2e_bad_envelope", lambda: unwrap_device_keys(huge, "pw"))
    expect_code("e2e_bad_envelope", lambda: unwrap_device_keys(bytes(blob[:-1]), "pw"))
    expect_code("e2e_bad_envelope", lambda: wrap_device_keys(device_keys(), "pw", opslimit=99))
