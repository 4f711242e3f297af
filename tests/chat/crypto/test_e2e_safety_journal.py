"""Safety codes, root pinning and the journal seal."""

from __future__ import annotations

import re

import nacl.bindings as sb

from chat.crypto import (
    box_keypair,
    check_root_pin,
    open_journal_note,
    root_fingerprint,
    safety_code,
    seal_journal_note,
    sign_keypair,
)
from tests.chat.crypto.e2e_helpers import expect_code


def test_safety_code_shape_and_binding() -> None:
    root, youth = sign_keypair(), sign_keypair()
    code = safety_code(root.public_key, youth.public_key)
    assert re.fullmatch(r"\d{4} \d{4} \d{4}", code)
    assert code == safety_code(root.public_key, youth.public_key)
    assert code != safety_code(sign_keypair().public_key, youth.public_key)
    assert code != safety_code(youth.public_key, root.public_key)
    h = sb.crypto_generichash_blake2b_salt_personal(
        b"helseprat/safety-code/v1" + root.public_key + youth.public_key
    )
    assert code.replace(" ", "") == f"{int.from_bytes(h[:8], 'big') % 10**12:012d}"
    expect_code("e2e_bad_envelope", lambda: safety_code(b"x", youth.public_key))


def test_root_pin() -> None:
    root = sign_keypair()
    first = check_root_pin(None, root.public_key)
    assert first.status == "first_use" and len(first.fingerprint) == 32
    assert first.fingerprint == root_fingerprint(root.public_key)
    assert check_root_pin(first.fingerprint, root.public_key).status == "match"
    changed = check_root_pin(first.fingerprint, sign_keypair().public_key)
    assert changed.status == "changed" and changed.fingerprint != first.fingerprint


def test_journal_note_only_the_gateway_opens() -> None:
    gw = box_keypair()
    note = "Samtale om søvn. Ny time avtalt. ✓"
    sealed = seal_journal_note(note, gw.public_key)
    assert note.encode() not in sealed
    assert open_journal_note(sealed, gw) == note
    # plain libsodium sealed box: any EPJ-side implementation can open it
    assert sb.crypto_box_seal_open(sealed, gw.public_key, gw.secret_key).decode() == note
    expect_code("e2e_decrypt", lambda: open_journal_note(sealed, box_keypair()))
