"""Version 2 notes: the browser's note part and the server's person part, the
outbox entry that carries both, and the web process's ``[epj]`` config."""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path

import pytest
from nacl.public import PrivateKey, SealedBox

from chat import crypto
from chat.errors import ConfigError
from identity_bridge.epj.errors import PayloadInvalid
from identity_bridge.epj.model import Nurse
from identity_bridge.epj.outbox import OutboxEntry
from identity_bridge.epj.sealed import open_split, seal_note_part, seal_person
from identity_bridge.oidc import Acr, RelyingPartyConfig
from identity_bridge.web.config import parse_epj

from .conftest import FNR, MARKER, Keys, write_config

MSG = "0b6f1c1e-8a8e-4c7b-9d51-1f2e3d4c5b6a"
OTHER = "7d9a3f2b-1c4e-4b8a-a6d2-9e8f7c6b5a41"
CONV = "conv-0123456789abcdef"


def _note(key: PrivateKey, msg_id: str = MSG, conversation: str = CONV) -> str:
    return seal_note_part(msg_id=msg_id, conversation=conversation,
                          nurse=Nurse("Demo", "Helsesykepleier"), subject="Samtale",
                          text=f"tekst {MARKER}", note_date=date(2026, 3, 2),
                          gateway_public_key=key.public_key)


def test_split_parts_open_together() -> None:
    key = PrivateKey.generate()
    person = seal_person(FNR, msg_id=MSG, conversation=CONV, gateway_public_key=key.public_key)
    note = open_split(_note(key), person, key, msg_id=MSG, conversation=CONV)
    assert note.patient.ident == FNR and MARKER in note.text
    assert note.nurse.family_name == "Helsesykepleier" and note.nurse.hpr is None
    assert FNR not in repr(note) and MARKER not in repr(note)


def test_the_browser_seal_opens_like_the_python_one() -> None:
    """nurse.js seals JSON text with sealJournalNote, i.e. chat.crypto.seal_journal_note."""
    key = PrivateKey.generate()
    body = json.dumps({"v": 2, "kind": "note", "msg_id": MSG, "conversation": CONV,
                       "nurse": {"given_name": "Demo", "family_name": "H", "hpr": None},
                       "subject": "Samtale i helseprat", "text": "æøå", "note_date": "2026-03-02"})
    sealed = crypto.b64encode(crypto.seal_journal_note(body, bytes(key.public_key)))
    person = seal_person(FNR, msg_id=MSG, conversation=CONV, gateway_public_key=key.public_key)
    assert open_split(sealed, person, key, msg_id=MSG, conversation=CONV).text == "æøå"


@pytest.mark.parametrize("what", ["person_msg", "note_msg", "person_conv", "entry", "swapped"])
def test_parts_that_do_not_belong_together_are_refused(what: str) -> None:
    key = PrivateKey.generate()
    note, person = _note(key), seal_person(FNR, msg_id=MSG, conversation=CONV,
                                           gateway_public_key=key.public_key)
    entry_msg = MSG
    if what == "person_msg":
        person = seal_person(FNR, msg_id=OTHER, conversation=CONV,
                             gateway_public_key=key.public_key)
    elif what == "note_msg":
        note = _note(key, msg_id=OTHER)
    elif what == "person_conv":
        person = seal_person(FNR, msg_id=MSG, conversation="conv-other-000000000",
                             gateway_public_key=key.public_key)
    elif what == "entry":
        entry_msg = OTHER
    else:
        note, person = person, note
    with pytest.raises(PayloadInvalid):
        open_split(note, person, key, msg_id=entry_msg, conversation=CONV)


def test_a_v1_payload_is_not_a_person_part() -> None:
    key = PrivateKey.generate()
    v1 = base64.b64encode(SealedBox(key.public_key).encrypt(
        json.dumps({"v": 1, "ident": FNR}).encode())).decode()
    with pytest.raises(PayloadInvalid):
        open_split(_note(key), v1, key, msg_id=MSG, conversation=CONV)


def test_outbox_entry_carries_the_person_part() -> None:
    entry = OutboxEntry(MSG, CONV, "demo-skole", "n", "note-ct", sealed_person="person-ct")
    back = OutboxEntry.from_fields({k.encode(): v.encode() for k, v in entry.to_fields().items()})
    assert back == entry and "person-ct" not in repr(back)
    assert OutboxEntry.from_fields(OutboxEntry(MSG, CONV, "s", "n", "x").to_fields()) \
        .sealed_person is None


def _rp() -> RelyingPartyConfig:
    return RelyingPartyConfig(issuer="https://idp.example", client_id="c",
                              redirect_uri="https://x/cb", post_logout_redirect_uri="https://x/lo",
                              private_key_file=Path("k.jwk"), acr_minimum=Acr.SUBSTANTIAL)


def test_epj_config_reads_the_worker_receivers(tmp_path: Path, keys: Keys) -> None:
    worker = write_config(tmp_path / "epj.toml", "http://127.0.0.1:1", keys)
    (tmp_path / "gw.pub").write_text(base64.b64encode(bytes(keys.gateway_key.public_key)).decode())
    link = parse_epj({"gateway_public_key_file": "gw.pub", "worker_config": "epj.toml",
                      "receivers": {"extra": 8000200}}, {}, base=tmp_path, idporten=_rp())
    assert link is not None and worker.exists()
    assert dict(link.receivers) == {"skole-1": 8000100, "ukjent": 8000999, "extra": 8000200}
    assert link.enabled_for("skole-1") and not link.enabled_for("demo-skole")
    assert link.gateway_public_key == bytes(keys.gateway_key.public_key)
    assert parse_epj(None, {}, base=tmp_path, idporten=None) is None


@pytest.mark.parametrize(("table", "idporten", "needle"), [
    ({"gateway_public_key_file": "gw.pub", "receivers": {"a": 1}}, False, "[idporten]"),
    ({"receivers": {"a": 1}}, True, "gateway_public_key_file"),
    ({"gateway_public_key_file": "missing.pub", "receivers": {"a": 1}}, True, "cannot read"),
    ({"gateway_public_key_file": "bad.pub", "receivers": {"a": 1}}, True, "X25519"),
    ({"gateway_public_key_file": "gw.pub"}, True, "worker_config or receivers"),
    ({"gateway_public_key_file": "gw.pub", "receivers": {"a": "x"}}, True, "HER-ids"),
    ({"gateway_public_key_file": "gw.pub", "receiver": {}}, True, "not a known setting"),
])
def test_epj_config_errors(tmp_path: Path, table: dict[str, object], idporten: bool,
                           needle: str) -> None:
    (tmp_path / "gw.pub").write_text(base64.b64encode(b"k" * 32).decode())
    (tmp_path / "bad.pub").write_text("bm90IGEga2V5")
    with pytest.raises(ConfigError) as err:
        parse_epj(table, {}, base=tmp_path, idporten=_rp() if idporten else None)
    assert needle in str(err.value)
