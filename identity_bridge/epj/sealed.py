"""The sealed note: what the nurse's browser seals to the journal gateway key.

crypto_box_seal (libsodium; PyNaCl ``SealedBox``) of a small JSON object. The person
identifier travels inside the seal too, so Redis holds only ciphertext and non-secret
metadata. Only the ``epj`` worker holds the gateway private key.

    {"v": 1,
     "patient": {"ident": "<fnr or d-number>", "given_name": "...", "family_name": "..."},
     "nurse": {"given_name": "...", "family_name": "...", "hpr": "..."},
     "subject": "...", "text": "...", "note_date": "YYYY-MM-DD"}
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

from .errors import PayloadInvalid, SealError
from .model import Nurse, Patient

PAYLOAD_VERSION = 1
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


def _str(obj: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PayloadInvalid(f"sealed payload: {key} missing or not a string")
    return value


def open_sealed(sealed_b64: str, gateway_private_key: PrivateKey) -> SealedNote:
    try:
        blob = base64.b64decode(sealed_b64, validate=True)
        plain = SealedBox(gateway_private_key).decrypt(blob)
    except (binascii.Error, ValueError, CryptoError):
        raise SealError("the sealed note cannot be opened with the gateway key") from None
    try:
        obj = json.loads(plain)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PayloadInvalid("sealed payload is not JSON") from None
    if not isinstance(obj, dict) or obj.get("v") != PAYLOAD_VERSION:
        raise PayloadInvalid("sealed payload has an unknown version")
    patient, nurse = obj.get("patient"), obj.get("nurse")
    if not isinstance(patient, dict) or not isinstance(nurse, dict):
        raise PayloadInvalid("sealed payload: patient or nurse missing")
    ident = _str(patient, "ident") or ""
    if not (len(ident) == 11 and ident.isdigit()):
        raise PayloadInvalid("sealed payload: the person identifier is not 11 digits")
    text = _str(obj, "text") or ""
    if len(text) > MAX_TEXT_CHARS:
        raise PayloadInvalid("sealed payload: text too long")
    try:
        note_date = date.fromisoformat(_str(obj, "note_date") or "")
    except ValueError:
        raise PayloadInvalid("sealed payload: note_date is not a date") from None
    return SealedNote(
        patient=Patient(
            ident=ident,
            given_name=_str(patient, "given_name", required=False),
            family_name=_str(patient, "family_name", required=False),
        ),
        nurse=Nurse(
            given_name=_str(nurse, "given_name") or "",
            family_name=_str(nurse, "family_name") or "",
            hpr=_str(nurse, "hpr", required=False),
        ),
        subject=_str(obj, "subject") or "",
        text=text,
        note_date=note_date,
    )
