"""The sealed note: what is sealed to the journal gateway key.

crypto_box_seal (libsodium; PyNaCl ``SealedBox``) of small JSON objects. The person
identifier travels inside a seal too, so Redis holds only ciphertext and non-secret
metadata. Only the ``epj`` worker holds the gateway private key.

Version 1, one seal with everything (tests and tools that know the FNR):

    {"v": 1,
     "patient": {"ident": "<fnr or d-number>", "given_name": "...", "family_name": "..."},
     "nurse": {"given_name": "...", "family_name": "...", "hpr": "..."},
     "subject": "...", "text": "...", "note_date": "YYYY-MM-DD"}

Version 2, two seals (the dashboard flow; see docs/crypto.md "Journal boundary"): the nurse's
browser does not know the FNR, the server does not see the note. The browser seals the *note
part*, the web process seals the *person part*; both name the same MsgId and conversation and
the worker refuses a pair that does not match each other and the outbox entry:

    note   (browser): {"v": 2, "kind": "note", "msg_id": "...", "conversation": "...",
                       "nurse": {"given_name": "...", "family_name": "...", "hpr": "..."},
                       "subject": "...", "text": "...", "note_date": "YYYY-MM-DD"}
    person (server):  {"v": 2, "kind": "person", "msg_id": "...", "conversation": "...",
                       "ident": "<fnr or d-number>"}
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from chat.protocol.jsontext import JsonRefused, parse_json

from .errors import PayloadInvalid, SealError
from .model import Nurse, Patient

PAYLOAD_VERSION = 1
SPLIT_VERSION = 2
MAX_TEXT_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class SealedNote:
    patient: Patient
    nurse: Nurse
    subject: str = field(repr=False)
    text: str = field(repr=False)
    note_date: date

    def to_json(self) -> bytes:
        body: dict[str, Any] = {
            "v": PAYLOAD_VERSION,
            "patient": {
                "ident": self.patient.ident,
                "given_name": self.patient.given_name,
                "family_name": self.patient.family_name,
            },
            "nurse": {
                "given_name": self.nurse.given_name,
                "family_name": self.nurse.family_name,
                "hpr": self.nurse.hpr,
            },
            "subject": self.subject,
            "text": self.text,
            "note_date": self.note_date.isoformat(),
        }
        return json.dumps(body, ensure_ascii=False).encode("utf-8")


def seal(note: SealedNote, gateway_public_key: PublicKey) -> str:
    """Base64 of crypto_box_seal(json). The browser does the same with libsodium."""
    return base64.b64encode(SealedBox(gateway_public_key).encrypt(note.to_json())).decode()


def seal_person(ident: str, *, msg_id: str, conversation: str,
                gateway_public_key: PublicKey) -> str:
    """The web process's half of a version 2 note: the person identifier, bound to the note."""
    body = {"v": SPLIT_VERSION, "kind": "person", "msg_id": msg_id,
            "conversation": conversation, "ident": ident}
    return _seal_json(body, gateway_public_key)


def seal_note_part(*, msg_id: str, conversation: str, nurse: Nurse, subject: str, text: str,
                   note_date: date, gateway_public_key: PublicKey) -> str:
    """The browser's half of a version 2 note (static/js/nurse.js does the same)."""
    body = {"v": SPLIT_VERSION, "kind": "note", "msg_id": msg_id, "conversation": conversation,
            "nurse": {"given_name": nurse.given_name, "family_name": nurse.family_name,
                      "hpr": nurse.hpr},
            "subject": subject, "text": text, "note_date": note_date.isoformat()}
    return _seal_json(body, gateway_public_key)


def _seal_json(body: dict[str, Any], gateway_public_key: PublicKey) -> str:
    plain = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return base64.b64encode(SealedBox(gateway_public_key).encrypt(plain)).decode()


def _str(obj: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PayloadInvalid(f"sealed payload: {key} missing or not a string")
    return value


def _open_json(sealed_b64: str, gateway_private_key: PrivateKey) -> dict[str, Any]:
    try:
        blob = base64.b64decode(sealed_b64, validate=True)
        plain = SealedBox(gateway_private_key).decrypt(blob)
    except (binascii.Error, ValueError, CryptoError):
        raise SealError("the sealed note cannot be opened with the gateway key") from None
    try:
        obj = parse_json(plain)  # a nurse's browser made it: bounded like every client input
    except JsonRefused:
        raise PayloadInvalid("sealed payload is not JSON") from None
    if not isinstance(obj, dict):
        raise PayloadInvalid("sealed payload is not an object")
    return obj


def _ident(value: str) -> str:
    if not (len(value) == 11 and value.isdigit()):
        raise PayloadInvalid("sealed payload: the person identifier is not 11 digits")
    return value


def open_sealed(sealed_b64: str, gateway_private_key: PrivateKey) -> SealedNote:
    obj = _open_json(sealed_b64, gateway_private_key)
    if obj.get("v") != PAYLOAD_VERSION:
        raise PayloadInvalid("sealed payload has an unknown version")
    patient = obj.get("patient")
    if not isinstance(patient, dict):
        raise PayloadInvalid("sealed payload: patient or nurse missing")
    return _note(obj, Patient(
        ident=_ident(_str(patient, "ident") or ""),
        given_name=_str(patient, "given_name", required=False),
        family_name=_str(patient, "family_name", required=False),
    ))


def open_split(sealed_note: str, sealed_person: str, gateway_private_key: PrivateKey, *,
               msg_id: str, conversation: str) -> SealedNote:
    """Open a version 2 pair. Both halves must name this entry's MsgId and conversation, so
    a person part cannot be moved under another note (or the other way round)."""
    note = _open_json(sealed_note, gateway_private_key)
    person = _open_json(sealed_person, gateway_private_key)
    for obj, kind in ((note, "note"), (person, "person")):
        if obj.get("v") != SPLIT_VERSION or obj.get("kind") != kind:
            raise PayloadInvalid(f"sealed {kind} part has an unknown version or kind")
        if obj.get("msg_id") != msg_id or obj.get("conversation") != conversation:
            raise PayloadInvalid(f"sealed {kind} part belongs to another note",
                                 code="epj.payload.mismatch")
    return _note(note, Patient(ident=_ident(_str(person, "ident") or "")))


def _note(obj: dict[str, Any], patient: Patient) -> SealedNote:
    nurse = obj.get("nurse")
    if not isinstance(nurse, dict):
        raise PayloadInvalid("sealed payload: patient or nurse missing")
    text = _str(obj, "text") or ""
    if len(text) > MAX_TEXT_CHARS:
        raise PayloadInvalid("sealed payload: text too long")
    try:
        note_date = date.fromisoformat(_str(obj, "note_date") or "")
    except ValueError:
        raise PayloadInvalid("sealed payload: note_date is not a date") from None
    return SealedNote(
        patient=patient,
        nurse=Nurse(
            given_name=_str(nurse, "given_name") or "",
            family_name=_str(nurse, "family_name") or "",
            hpr=_str(nurse, "hpr", required=False),
        ),
        subject=_str(obj, "subject") or "",
        text=text,
        note_date=note_date,
    )
