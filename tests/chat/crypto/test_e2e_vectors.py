"""The shared vectors: regenerating gives exactly the committed file, and every vector
verifies / opens in Python. (The JS side checks the same file in js/vectors.test.mjs.)"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from chat.crypto import (
    b64decode,
    check_root_pin,
    decode_key_bundle,
    device_keys,
    new_session,
    new_team_key,
    open_conversation_key,
    open_journal_note,
    open_key_bundle,
    open_message,
    open_team_key,
    safety_code,
    sign_keypair,
    unwrap_device_keys,
    verify_member_statement,
    verify_team_statement,
    with_epoch,
    with_senders,
)
from chat.crypto.keys import box_keypair
from tests.chat.crypto.e2e_helpers import code_of

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
V: dict[str, Any] = json.loads((VECTORS / "e2e.json").read_text())
K = V["keys"]
fh = bytes.fromhex


def _load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("make_vectors", VECTORS / "make_vectors.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_regenerating_gives_the_committed_file() -> None:
    assert _load_generator().build() == V


ROOT = sign_keypair(fh(K["team_root"]["seed"]))
NURSE_A = device_keys(fh(K["nurse_a"]["box_seed"]), fh(K["nurse_a"]["sign_seed"]))
NURSE_B = device_keys(fh(K["nurse_b"]["box_seed"]), fh(K["nurse_b"]["sign_seed"]))
YOUTH = sign_keypair(fh(K["youth"]["seed"]))
CK = fh(K["ck"])


def test_statements_and_grants_open() -> None:
    sts = [verify_team_statement(fh(s["signed"]), ROOT.public_key) for s in V["team_statements"]]
    for m in V["member_statements"]:
        assert verify_member_statement(fh(m["signed"]), ROOT.public_key).member == m["member"]
    for g in V["team_key_grants"]:
        dev = NURSE_A if g["device"] == "nurse_a" else NURSE_B
        team = open_team_key(fh(g["sealed"]), dev.box, sts[g["epoch"] - 1])
        assert team == new_team_key(g["epoch"], fh(K[f"team_{g['epoch']}"]["seed"]))
    for b in V["key_bundles"]:
        team = new_team_key(b["epoch"], fh(K[f"team_{b['epoch']}"]["seed"]))
        opened = open_key_bundle(decode_key_bundle(fh(b["encoded"])), team)
        assert (opened.ck, opened.youth_sign_public_key) == (CK, YOUTH.public_key)


def test_envelopes_open() -> None:
    s = with_epoch(
        new_session(
            V["envelopes"][0]["conversation_id"], CK, 1, [YOUTH.public_key, NURSE_A.sign.public_key]
        ),
        2,
    )
    for e in V["envelopes"]:
        s, m = open_message(s, e["body"])
        assert m.plaintext.hex() == e["plaintext"] and m.sequence == e["sequence"]


def _receiver() -> Any:
    r = V["rejections"]["receiver"]
    s = new_session(
        r["conversation_id"], CK, 1, [YOUTH.public_key, NURSE_B.sign.public_key], NURSE_A.sign
    )
    return with_epoch(s, 2)


@pytest.mark.parametrize("case", V["rejections"]["cases"], ids=lambda c: c["label"])
def test_rejection_vectors(case: dict[str, str]) -> None:
    assert code_of(lambda: open_message(_receiver(), case["body"])) == case["code"]


def test_replay_and_removed_sender_vectors() -> None:
    r = V["rejections"]
    s, _ = open_message(_receiver(), r["replay"]["body"])
    assert code_of(lambda: open_message(s, r["replay"]["body"])) == "e2e_replay"
    assert code_of(lambda: open_message(_receiver(), r["removed_sender"]["body"])) is None
    removed = with_senders(_receiver(), remove=[NURSE_B.sign.public_key])
    assert code_of(lambda: open_message(removed, r["removed_sender"]["body"])) == (
        "e2e_unknown_sender"
    )


def test_wrapped_keys_safety_journal_vectors() -> None:
    w = V["wrapped_device_keys"]
    assert unwrap_device_keys(fh(w["blob"]), w["password_nfd"]) == NURSE_A
    assert code_of(lambda: unwrap_device_keys(fh(w["blob"]), w["wrong_password"])) == (
        "e2e_wrong_password"
    )
    for c in V["safety"]["codes"]:
        assert safety_code(fh(c["root_public_key"]), fh(c["youth_public_key"])) == c["code"]
    assert check_root_pin(V["safety"]["root_fingerprint"], ROOT.public_key).status == "match"
    gw = box_keypair(fh(K["epj_gateway"]["seed"]))
    assert open_journal_note(fh(V["journal"]["sealed"]), gw) == V["journal"]["note"]
    g = V["conversation_key_grant"]
    dev = box_keypair(fh(K["youth_device"]["seed"]))
    assert open_conversation_key(fh(g["sealed"]), g["conversation_id"], dev) == CK
    for b in V["base64"]:
        assert b64decode(b["b64"]).hex() == b["hex"]
