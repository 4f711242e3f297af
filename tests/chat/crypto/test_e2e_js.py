"""The browser module under Node: the JS test files (vectors + behaviour), and
cross-language interop in both directions (youth→nurse and nurse→youth, JS↔Python)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from chat.crypto import (
    TeamStatement,
    b64decode,
    b64encode,
    conversation_key,
    decode_key_bundle,
    device_keys,
    encode_key_bundle,
    make_key_bundle,
    new_session,
    new_team_key,
    open_journal_note,
    open_key_bundle,
    open_message,
    open_team_key,
    root_fingerprint,
    safety_code,
    seal_message,
    seal_team_key,
    sign_keypair,
    sign_team_statement,
    unwrap_device_keys,
    verify_team_statement,
    wrap_device_keys,
)
from chat.crypto.keys import box_keypair

ROOT_DIR = Path(__file__).resolve().parents[3]
JS_DIR = Path(__file__).resolve().parent / "js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

SERVICE = "oslo/hasle-skole"
CONV = "c-interop-1"


def node(command: str, payload: dict[str, Any]) -> dict[str, Any]:
    assert NODE is not None
    proc = subprocess.run(
        [NODE, str(JS_DIR / "interop_cli.mjs"), command],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=ROOT_DIR,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def test_node_test_suite_passes() -> None:
    assert NODE is not None
    files = sorted(str(p) for p in JS_DIR.glob("*.test.mjs"))
    proc = subprocess.run(
        [NODE, "--test", *files],
        capture_output=True,
        text=True,
        cwd=ROOT_DIR,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    passed = re.search(r"^# pass (\d+)$", proc.stdout, re.M)
    failed = re.search(r"^# fail (\d+)$", proc.stdout, re.M)
    assert passed is not None and failed is not None, proc.stdout[-2000:]
    assert int(failed.group(1)) == 0
    assert int(passed.group(1)) >= 16


class Team:
    """A service as the admin CLI would set it up (Python side)."""

    def __init__(self) -> None:
        self.root = sign_keypair()
        self.team = new_team_key(1)
        self.signed = sign_team_statement(
            TeamStatement(SERVICE, 1, self.team.keys.public_key, 1_767_225_600), self.root
        )
        self.statement = verify_team_statement(self.signed, self.root.public_key, SERVICE)


def test_js_youth_to_python_nurse_and_back() -> None:
    t = Team()
    nurse = device_keys()
    youth = node(
        "youthStart",
        {
            "service": SERVICE,
            "root_public_key": t.root.public_key.hex(),
            "signed_statement": t.signed.hex(),
            "conversation_id": CONV,
            "nurse_sign_public_keys": [nurse.sign.public_key.hex()],
            "plaintexts": ["Hei, jeg lurer på noe 🙂", "", "x" * 5000],
        },
    )
    # Python nurse: team key from its grant, bundle, messages.
    team = open_team_key(seal_team_key(t.team, nurse.box.public_key), nurse.box, t.statement)
    opened = open_key_bundle(decode_key_bundle(b64decode(youth["bundle"])), team)
    assert opened.youth_sign_public_key.hex() == youth["youth_public_key"]
    assert youth["safety_code"] == safety_code(t.root.public_key, opened.youth_sign_public_key)
    assert youth["pin_fingerprint"] == root_fingerprint(t.root.public_key)
    s = new_session(CONV, opened.ck, 1, [opened.youth_sign_public_key], nurse.sign)
    got = []
    for body in youth["bodies"]:
        s, m = open_message(s, body)
        got.append(m.plaintext.decode())
    assert got == ["Hei, jeg lurer på noe 🙂", "", "x" * 5000]
    s, reply = seal_message(s, b"Hei! Fortell gjerne.")
    # JS youth reads the reply, and its own history, with its stored state.
    read = node(
        "youthRead",
        {
            "youth_seed": youth["youth_seed"],
            "ck": youth["ck"],
            "epoch": 1,
            "conversation_id": CONV,
            "nurse_sign_public_keys": [nurse.sign.public_key.hex()],
            "bodies": [*youth["bodies"], reply],
        },
    )
    assert read["plaintexts"][-1] == "Hei! Fortell gjerne."
    assert read["next_sequence"] == 3


def test_python_youth_to_js_nurse_and_back() -> None:
    t = Team()
    # JS nurse enrols (keys made and wrapped in "the browser"); Python can unwrap it too.
    enrol = node("nurseEnrol", {"password": "Sommer-2026! åpen dør"})
    unwrapped = unwrap_device_keys(b64decode(enrol["wrapped"]), "Sommer-2026! åpen dør")
    assert unwrapped.box.public_key.hex() == enrol["box_public_key"]
    nurse_box_pk = bytes.fromhex(enrol["box_public_key"])
    nurse_sign_pk = bytes.fromhex(enrol["sign_public_key"])
    grant = seal_team_key(t.team, nurse_box_pk)
    gateway = box_keypair()

    youth = sign_keypair()
    ck = conversation_key()
    bundle = make_key_bundle(ck, youth.public_key, t.statement)
    y = new_session(CONV, ck, 1, [nurse_sign_pk], youth)
    bodies = []
    for text in ["Kan jeg være anonym?", "Ja eller nei"]:
        y, b = seal_message(y, text.encode())
        bodies.append(b)
    out = node(
        "nurseRead",
        {
            "wrapped": enrol["wrapped"],
            "password": "Sommer-2026! åpen dør",
            "service": SERVICE,
            "root_public_key": t.root.public_key.hex(),
            "signed_statement": t.signed.hex(),
            "team_key_grant": grant.hex(),
            "bundle": b64encode(encode_key_bundle(bundle)),
            "conversation_id": CONV,
            "bodies": bodies,
            "replies": ["Ja, du er anonym her.", "Æ Ø Å 🌟"],
            "journal_note": "Elev spør om anonymitet. Informert.",
            "epj_public_key": gateway.public_key.hex(),
        },
    )
    assert out["plaintexts"] == ["Kan jeg være anonym?", "Ja eller nei"]
    assert out["safety_code"] == safety_code(t.root.public_key, youth.public_key)
    got = []
    for body in out["replies"]:
        y, m = open_message(y, body)
        got.append(m.plaintext.decode())
        assert m.sender_public_key == nurse_sign_pk
    assert got == ["Ja, du er anonym her.", "Æ Ø Å 🌟"]
    assert open_journal_note(bytes.fromhex(out["journal"]), gateway) == (
        "Elev spør om anonymitet. Informert."
    )


def test_python_wrapped_keys_open_in_js_and_errors_match() -> None:
    dev = device_keys()
    ck = conversation_key()
    s = new_session(CONV, ck, 1, [], dev.sign)
    s, body = seal_message(s, b"en gang")
    base = {"conversation_id": CONV, "ck": ck.hex(), "epoch": 1}
    ok = node("tryOpen", {**base, "senders": [dev.sign.public_key.hex()], "body": body})
    assert ok == {"plaintext": "en gang"}
    unknown = node("tryOpen", {**base, "senders": [], "body": body})
    assert unknown == {"code": "e2e_unknown_sender"}
    raw = bytearray(b64decode(body))
    raw[60] ^= 1
    bad = node(
        "tryOpen", {**base, "senders": [dev.sign.public_key.hex()], "body": b64encode(bytes(raw))}
    )
    assert bad == {"code": "e2e_bad_signature"}
    wrapped = b64encode(wrap_device_keys(dev, "pw", opslimit=1, memlimit=8 * 1024 * 1024))
    assert node("unwrap", {"wrapped": wrapped, "password": "pw"}) == {
        "sign_public_key": dev.sign.public_key.hex()
    }
    assert node("unwrap", {"wrapped": wrapped, "password": "PW"}) == {"code": "e2e_wrong_password"}
