"""Statements, team key distribution, key bundles, rotation and the stale-epoch rules."""

from __future__ import annotations

import pytest

from chat.crypto import (
    MemberStatement,
    TeamKey,
    TeamStatement,
    check_bundle_epoch,
    conversation_key,
    decode_key_bundle,
    device_keys,
    encode_key_bundle,
    make_key_bundle,
    new_team_key,
    open_conversation_key,
    open_key_bundle,
    open_key_bundle_with,
    open_team_key,
    reseal_key_bundle,
    seal_conversation_key,
    seal_team_key,
    sign_keypair,
    sign_member_statement,
    sign_team_statement,
    verify_member_statement,
    verify_team_statement,
)
from chat.crypto.keys import box_keypair
from chat.crypto.statements import decode_team_statement, encode_team_statement
from tests.chat.crypto.e2e_helpers import expect_code

SERVICE = "oslo/hasle-skole"
ROOT = sign_keypair(bytes([1]) * 32)


def statement_for(team: TeamKey) -> TeamStatement:
    signed = sign_team_statement(
        TeamStatement(SERVICE, team.epoch, team.keys.public_key, 1_700_000_000), ROOT
    )
    return verify_team_statement(signed, ROOT.public_key, SERVICE)


def test_team_statement_encoding_is_canonical_and_round_trips() -> None:
    st = TeamStatement(SERVICE, 7, bytes(32), 123)
    raw = encode_team_statement(st)
    assert raw.startswith(b"helseprat/team-statement/v1\x00\x10oslo/hasle-skole\x00\x00\x00\x07")
    assert decode_team_statement(raw) == st
    expect_code("e2e_bad_envelope", lambda: decode_team_statement(raw + b"\x00"))
    expect_code("e2e_bad_envelope", lambda: decode_team_statement(raw[:-1]))


def test_team_statement_every_byte_is_covered_by_the_signature() -> None:
    signed = sign_team_statement(TeamStatement(SERVICE, 1, bytes(32), 5), ROOT)
    for i in range(len(signed)):
        bad = bytearray(signed)
        bad[i] ^= 0x01
        with pytest.raises(Exception) as info:
            verify_team_statement(bytes(bad), ROOT.public_key)
        assert getattr(info.value, "code", None) in {"e2e_bad_signature", "e2e_bad_envelope"}


def test_statement_checks_root_and_service() -> None:
    signed = sign_team_statement(TeamStatement(SERVICE, 1, bytes(32), 5), ROOT)
    other_root = sign_keypair()
    expect_code("e2e_bad_signature", lambda: verify_team_statement(signed, other_root.public_key))
    expect_code("e2e_bad_signature", lambda: verify_team_statement(signed, ROOT.public_key, "x"))


def test_member_statement_round_trip_and_domain_separation() -> None:
    dev = device_keys()
    ms = MemberStatement(SERVICE, 3, "nurse-17", dev.sign.public_key, dev.box.public_key)
    signed = sign_member_statement(ms, ROOT)
    assert verify_member_statement(signed, ROOT.public_key, SERVICE) == ms
    # a member statement is never accepted as a team statement (different domain prefix)
    expect_code("e2e_bad_envelope", lambda: verify_team_statement(signed, ROOT.public_key))


def test_team_key_grant_opens_only_for_the_device_and_matching_statement() -> None:
    team = new_team_key(1)
    dev, other = device_keys(), device_keys()
    grant = seal_team_key(team, dev.box.public_key)
    assert open_team_key(grant, dev.box, statement_for(team)) == team
    expect_code("e2e_decrypt", lambda: open_team_key(grant, other.box, statement_for(team)))
    impostor = statement_for(new_team_key(1))  # a statement naming a different key
    expect_code("e2e_key_mismatch", lambda: open_team_key(grant, dev.box, impostor))


def test_bundle_round_trip_and_wire_form() -> None:
    team = new_team_key(4)
    youth = sign_keypair()
    ck = conversation_key()
    bundle = make_key_bundle(ck, youth.public_key, statement_for(team))
    raw = encode_key_bundle(bundle)
    assert len(raw) == 118 and raw[:5] == b"\x01\x00\x00\x00\x04"
    opened = open_key_bundle(decode_key_bundle(raw), team)
    assert (opened.ck, opened.youth_sign_public_key, opened.epoch) == (ck, youth.public_key, 4)
    expect_code("e2e_bad_envelope", lambda: decode_key_bundle(raw[:-1]))
    expect_code("e2e_unknown_epoch", lambda: open_key_bundle(bundle, new_team_key(5)))


def test_a_team_key_grant_is_not_a_bundle() -> None:
    team = new_team_key(1)
    # a sealed team key (36-byte payload) presented as a bundle to the device's box key
    dev = device_keys()
    as_team = TeamKey(1, dev.box)
    fake = make_key_bundle(bytes(32), bytes(32), statement_for(team))
    grant = seal_team_key(team, dev.box.public_key)
    expect_code("e2e_decrypt", lambda: open_key_bundle(fake, as_team))
    expect_code("e2e_bad_envelope", lambda: open_key_bundle(type(fake)(1, grant), as_team))


def test_rotation_reseals_ck_and_removed_member_cannot_open_new_bundles() -> None:
    """nurse A stays, nurse B is removed at the rotation from epoch 1 to 2."""
    team1, team2 = new_team_key(1), new_team_key(2)
    nurse_a, nurse_b = device_keys(), device_keys()
    st1, st2 = statement_for(team1), statement_for(team2)
    keys_a = {
        1: open_team_key(seal_team_key(team1, nurse_a.box.public_key), nurse_a.box, st1),
        2: open_team_key(seal_team_key(team2, nurse_a.box.public_key), nurse_a.box, st2),
    }
    keys_b = {1: open_team_key(seal_team_key(team1, nurse_b.box.public_key), nurse_b.box, st1)}

    youth = sign_keypair()
    ck_open = conversation_key()
    old = make_key_bundle(ck_open, youth.public_key, st1)
    moved = reseal_key_bundle(old, keys_a[1], st2)
    assert moved.epoch == 2
    assert open_key_bundle_with(moved, keys_a).ck == ck_open

    new_ck = conversation_key()
    fresh = make_key_bundle(new_ck, sign_keypair().public_key, st2)
    assert open_key_bundle_with(fresh, keys_a).ck == new_ck
    expect_code("e2e_unknown_epoch", lambda: open_key_bundle_with(fresh, keys_b))
    # even pretending it is an epoch-1 bundle, B's old team key does not open it
    expect_code("e2e_decrypt", lambda: open_key_bundle(type(fresh)(1, fresh.sealed), keys_b[1]))
    expect_code("e2e_stale_epoch", lambda: reseal_key_bundle(moved, keys_a[2], st1))


def test_new_bundles_must_use_the_current_epoch() -> None:
    check_bundle_epoch(3, 3)
    expect_code("e2e_stale_epoch", lambda: check_bundle_epoch(2, 3))
    expect_code("e2e_unknown_epoch", lambda: check_bundle_epoch(4, 3))
    expect_code(
        "e2e_stale_epoch",
        lambda: open_key_bundle_with(
            make_key_bundle(bytes(32), bytes(32), statement_for(new_team_key(1))),
            {2: new_team_key(2)},
        ),
    )


def test_conversation_key_grant_to_a_youth_device() -> None:
    ck, dev = conversation_key(), box_keypair()
    sealed = seal_conversation_key(ck, "c-1", dev.public_key)
    assert open_conversation_key(sealed, "c-1", dev) == ck
    expect_code("e2e_decrypt", lambda: open_conversation_key(sealed, "c-2", dev))
    expect_code("e2e_decrypt", lambda: open_conversation_key(sealed, "c-1", box_keypair()))
