"""Envelopes and sessions: round trips, padding, tampering, replay, epochs, senders."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chat.crypto import (
    MAX_PLAINTEXT,
    PAD_BUCKETS,
    b64decode,
    b64encode,
    conversation_key,
    decode_envelope,
    new_session,
    open_message,
    seal_message,
    sign_keypair,
    with_epoch,
    with_senders,
)
from chat.crypto import envelope as ev
from chat.crypto.session import REPLAY_WINDOW
from tests.chat.crypto.e2e_helpers import code_of, expect_code

CONV = "c-01J9Z3K7Q4W8X2Y5"
YOUTH = sign_keypair()
NURSE = sign_keypair()
CK = conversation_key()


def pair(epoch: int = 1):  # type: ignore[no-untyped-def]
    youth = new_session(CONV, CK, epoch, [NURSE.public_key], YOUTH)
    nurse = new_session(CONV, CK, epoch, [YOUTH.public_key], NURSE)
    return youth, nurse


def flip(body: str, index: int, mask: int = 1) -> str:
    raw = bytearray(b64decode(body))
    raw[index] ^= mask
    return b64encode(bytes(raw))


def test_both_directions() -> None:
    y, n = pair()
    y, b1 = seal_message(y, "Hei 👋".encode())
    n, m1 = open_message(n, b1)
    assert m1.plaintext.decode() == "Hei 👋"
    assert (m1.sender_public_key, m1.sequence, m1.epoch) == (YOUTH.public_key, 0, 1)
    n, b2 = seal_message(n, b"Hei! Hva kan jeg hjelpe med?")
    y, m2 = open_message(y, b2)
    assert m2.plaintext == b"Hei! Hva kan jeg hjelpe med?"
    assert m2.sender_public_key == NURSE.public_key


def test_envelope_layout() -> None:
    y, _ = pair(epoch=0x01020304)
    y = replace(y, next_sequence=0x0506)
    _, body = seal_message(y, b"x", nonce=bytes(range(24)))
    raw = b64decode(body)
    assert raw[0] == 1
    assert raw[1:5] == b"\x01\x02\x03\x04"
    assert raw[5:13] == ev.key_id(YOUTH.public_key)
    assert raw[13:21] == b"\x00" * 6 + b"\x05\x06"
    assert raw[21:45] == bytes(range(24))
    assert len(raw) == 45 + 256 + 16 + 64 == ev.OVERHEAD + 256
    assert "\n" not in body


@pytest.mark.parametrize(
    ("length", "bucket"), [(0, 256), (255, 256), (256, 1024), (4095, 4096), (16383, 16384)]
)
def test_padding_buckets(length: int, bucket: int) -> None:
    y, n = pair()
    _, body = seal_message(y, b"a" * length)
    env = decode_envelope(b64decode(body))
    assert len(env.ciphertext) == bucket + 16
    assert open_message(n, body)[1].plaintext == b"a" * length
    assert len(body) <= 64 * 1024


def test_too_large_is_refused() -> None:
    y, _ = pair()
    assert MAX_PLAINTEXT == PAD_BUCKETS[-1] - 1
    expect_code("e2e_too_large", lambda: seal_message(y, bytes(MAX_PLAINTEXT + 1)))


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2000))
def test_round_trip_property(data: bytes) -> None:
    y, n = pair()
    _, body = seal_message(y, data)
    assert open_message(n, body)[1].plaintext == data


@pytest.mark.parametrize(
    ("where", "index", "mask", "code"),
    [
        ("ciphertext", 60, 0x01, "e2e_bad_signature"),
        ("nonce", 30, 0x01, "e2e_bad_signature"),
        ("sequence", 20, 0x01, "e2e_bad_signature"),
        ("signature", -1, 0x80, "e2e_bad_signature"),
        ("epoch 1->2 (known)", 4, 0x03, "e2e_bad_signature"),
        ("epoch 1->0 (older)", 4, 0x01, "e2e_stale_epoch"),
        ("epoch 1->3 (newer)", 4, 0x02, "e2e_unknown_epoch"),
        ("sender key id", 8, 0x01, "e2e_unknown_sender"),
        ("version", 0, 0x02, "e2e_bad_envelope"),
    ],
)
def test_tampering_is_rejected_with_the_right_code(
    where: str, index: int, mask: int, code: str
) -> None:
    y, n = pair()
    n = with_epoch(n, 2)
    _, body = seal_message(y, b"secret")
    expect_code(code, lambda: open_message(n, flip(body, index, mask)))
    assert open_message(n, body)[1].plaintext == b"secret"  # nothing was committed


def test_conversation_id_is_bound() -> None:
    y, _ = pair()
    _, body = seal_message(y, b"x")
    other = new_session("c-other", CK, 1, [YOUTH.public_key], NURSE)
    expect_code("e2e_bad_signature", lambda: open_message(other, body))


def test_signature_by_a_member_with_the_wrong_key_is_a_decrypt_error() -> None:
    liar = new_session(CONV, conversation_key(), 1, [], YOUTH)
    _, body = seal_message(liar, b"x")
    _, n = pair()
    expect_code("e2e_decrypt", lambda: open_message(n, body))


def test_a_member_cannot_forge_the_youth() -> None:
    # NURSE holds CK but not the youth's signing key: signing as NURSE with YOUTH's key id
    # is caught by the signature.
    _, n = pair()
    forged = ev.encrypt_envelope(CK, CONV, 1, NURSE, 0, b"fake", None)
    raw = bytearray(forged)
    raw[5:13] = ev.key_id(YOUTH.public_key)
    expect_code("e2e_bad_signature", lambda: open_message(n, b64encode(bytes(raw))))


def test_replay_and_window() -> None:
    y, n = pair()
    bodies = []
    for i in range(REPLAY_WINDOW + 6):
        y, b = seal_message(y, str(i).encode())
        bodies.append(b)
    n, _ = open_message(n, bodies[0])
    expect_code("e2e_replay", lambda: open_message(n, bodies[0]))
    n, _ = open_message(n, bodies[-1])
    n, _ = open_message(n, bodies[10])  # late but inside the window: accepted once
    expect_code("e2e_replay", lambda: open_message(n, bodies[10]))
    expect_code("e2e_replay", lambda: open_message(n, bodies[2]))  # below the window
    assert set(n.windows[ev.key_id(YOUTH.public_key)].seen) == {10, REPLAY_WINDOW + 5}


def test_reloaded_sender_continues_after_its_own_history() -> None:
    y, n = pair()
    history = []
    for i in range(3):
        y, b = seal_message(y, bytes([i]))
        history.append(b)
    fresh = new_session(CONV, CK, 1, [NURSE.public_key], YOUTH)
    for b in history:
        fresh, _ = open_message(fresh, b)
    assert fresh.next_sequence == 3
    fresh, b = seal_message(fresh, b"next")
    for h in history:
        n, _ = open_message(n, h)
    assert open_message(n, b)[1].sequence == 3


def test_epochs_after_rotation() -> None:
    y, n = pair()
    y1, old_body = seal_message(y, b"sent before rotation")
    n = with_epoch(n, 2)
    assert open_message(n, old_body)[1].epoch == 1  # in flight across the rotation: fine
    y2 = with_epoch(y1, 2)
    _, new_body = seal_message(y2, b"after")
    assert open_message(n, new_body)[1].epoch == 2
    _, n_only_1 = pair()
    expect_code("e2e_unknown_epoch", lambda: open_message(n_only_1, new_body))
    n_from_2 = new_session(CONV, CK, 2, [YOUTH.public_key], NURSE)
    expect_code("e2e_stale_epoch", lambda: open_message(n_from_2, old_body))


def test_removed_member_is_an_unknown_sender() -> None:
    other_nurse = sign_keypair()
    y = new_session(CONV, CK, 1, [NURSE.public_key, other_nurse.public_key], YOUTH)
    o = new_session(CONV, CK, 1, [YOUTH.public_key], other_nurse)
    _, body = seal_message(o, b"from the nurse who is leaving")
    assert code_of(lambda: open_message(y, body)) is None
    y = with_senders(y, remove=[other_nurse.public_key])
    expect_code("e2e_unknown_sender", lambda: open_message(y, body))


def test_session_without_signing_key_cannot_send() -> None:
    s = new_session(CONV, CK, 1, [YOUTH.public_key])
    expect_code("e2e_unknown_sender", lambda: seal_message(s, b"x"))
    # The key itself must not show in a repr (logs, tracebacks); the field name is checked too,
    # but as "ck=" because the repr holds random key ids whose bytes may spell "ck".
    assert repr(CK) not in repr(s) and CK.hex() not in repr(s)
    assert "ck=" not in repr(s)


def test_bad_bodies() -> None:
    _, n = pair()
    expect_code("e2e_bad_envelope", lambda: open_message(n, "not base64!"))
    expect_code("e2e_bad_envelope", lambda: open_message(n, "A" * (64 * 1024 + 4)))
    expect_code("e2e_bad_envelope", lambda: open_message(n, b64encode(bytes(100))))
