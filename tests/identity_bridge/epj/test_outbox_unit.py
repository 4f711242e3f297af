"""The sans-I/O outbox decisions and the sealed payload, without Redis or HTTP."""

from __future__ import annotations

import base64
import uuid

import pytest
from nacl.public import PrivateKey, SealedBox

from identity_bridge.epj.errors import PayloadInvalid, SealError
from identity_bridge.epj.model import AppRec, AppRecError, AppRecStatus
from identity_bridge.epj.outbox import (
    Failed,
    GiveUp,
    MarkSent,
    OutboxEntry,
    RetryAfter,
    RetryPolicy,
    Sent,
    Status,
    decide,
    may_move,
    receipt_change,
    status_key,
    thread_key,
)
from identity_bridge.epj.sealed import open_sealed, seal

from .conftest import FNR, MARKER, sample_note


def test_backoff_is_exponential_and_capped() -> None:
    p = RetryPolicy(base_s=1, factor=2, cap_s=10, max_attempts=6)
    assert [p.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_decisions() -> None:
    p = RetryPolicy(max_attempts=3)
    assert decide(Sent("n1"), 1, p) == MarkSent("n1")
    assert decide(Failed("epj.transport.unavailable", True), 1, p) == RetryAfter(
        p.delay(1), "epj.transport.unavailable")
    assert decide(Failed("epj.transport.unavailable", True), 3, p) == GiveUp(
        "epj.outbox.retries_exhausted")
    assert decide(Failed("epj.msh.http_400", False), 1, p) == GiveUp("epj.msh.http_400")


def test_status_only_moves_forward() -> None:
    assert may_move(None, Status.QUEUED)
    assert may_move(Status.QUEUED, Status.SENT)
    assert may_move(Status.SENT, Status.ACCEPTED)
    assert not may_move(Status.ACCEPTED, Status.SENT)
    assert not may_move(Status.REJECTED, Status.ACCEPTED)
    assert not may_move(Status.SENT, Status.SENT)


def _receipt(status: AppRecStatus, *errors: AppRecError) -> AppRec:
    return AppRec("r", "2025-01-01T00:00:00", status, errors, "m", "DIALOG_HELSEFAGLIG", "")


def test_receipt_changes() -> None:
    assert receipt_change(_receipt(AppRecStatus.OK)).status is Status.ACCEPTED
    change = receipt_change(_receipt(AppRecStatus.AVVIST,
                                     AppRecError("E21", "Mottaker finnes ikke")))
    assert (change.status, change.code, change.text) == (
        Status.REJECTED, "epj.apprec.avvist", "E21 Mottaker finnes ikke")
    partial = receipt_change(_receipt(AppRecStatus.OK_FEIL_I_DELMELDING, AppRecError("07")))
    assert partial.status is Status.ACCEPTED and partial.code.endswith("ok_feil_i_delmelding")


def test_keys_are_single_slot_with_hash_tags() -> None:
    assert status_key("abc") == "epj:status:{abc}"
    assert thread_key("c1") == "epj:thread:{c1}"


def test_outbox_entry_round_trip_and_rejects() -> None:
    msg_id = str(uuid.uuid4())
    entry = OutboxEntry(msg_id, "c1", "skole-1", "n1", "c2VhbGVk", "p", "c")
    raw = {k.encode(): v.encode() for k, v in entry.to_fields().items()}
    assert OutboxEntry.from_fields(raw) == entry
    assert "sealed" not in repr(entry)
    with pytest.raises(PayloadInvalid) as caught:
        OutboxEntry.from_fields({b"msg_id": msg_id.encode()})
    assert caught.value.code == "epj.outbox.bad_entry"
    with pytest.raises(PayloadInvalid):
        OutboxEntry.from_fields({**raw, b"msg_id": b"not-a-uuid"})


def test_seal_round_trip_and_failures() -> None:
    key = PrivateKey.generate()
    note = sample_note()
    sealed = seal(note, key.public_key)
    assert MARKER not in sealed and FNR not in sealed
    opened = open_sealed(sealed, key)
    assert opened == note
    assert FNR not in repr(opened) and MARKER not in repr(opened)
    with pytest.raises(SealError):
        open_sealed(sealed, PrivateKey.generate())
    with pytest.raises(SealError):
        open_sealed("%%%not base64", key)
    junk = base64.b64encode(SealedBox(key.public_key).encrypt(b'{"v": 1}')).decode()
    with pytest.raises(PayloadInvalid):
        open_sealed(junk, key)
    short_id = base64.b64encode(SealedBox(key.public_key).encrypt(
        note.to_json().replace(FNR.encode(), b"123"))).decode()
    with pytest.raises(PayloadInvalid) as caught:
        open_sealed(short_id, key)
    assert caught.value.code == "epj.payload.invalid"
