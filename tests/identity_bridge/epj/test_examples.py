"""The project's parsers on the published example messages in shared/standards/kith/examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from identity_bridge.epj import schemas
from identity_bridge.epj.apprec import parse_apprec
from identity_bridge.epj.errors import SchemaInvalid
from identity_bridge.epj.model import AppRecStatus
from identity_bridge.epj.msghead import parse_msghead, read_msghead

from .conftest import SHARED_KITH

EXAMPLES = SHARED_KITH / "examples"
pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="shared examples not present")


def _read(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def test_ks_samsvar_message_validates_and_parses() -> None:
    info = parse_msghead(_read("fiks-nhn-client_samsvar-test-message.xml"))
    assert info.msg_type == "DIALOG_HELSEFAGLIG"
    assert info.msg_id == "615aba81-6a88-41d1-a9f5-90b28cfc8b73"
    assert info.gen_date == "2025-05-13T11:56:21"
    assert info.conversation_ref is None
    assert info.sender_her_ids == (112374, 8094866)
    assert info.receiver_her_ids == (8142987, 8143060)
    assert info.receiver_her_id == 8143060
    assert info.patient_id_type == "FNR"
    assert info.patient_ident == "15720255178"
    assert len(info.notes) == 1
    assert info.notes[0].theme.v == "8"
    assert info.notes[0].theme.s == "2.16.578.1.12.4.1.1.7322"
    assert info.notes[0].subject == "EKG tatt i dag"
    assert (info.notes[0].text or "").startswith("Pasienten er henvist")


def test_helsenorge_message_has_the_documented_base64_defect() -> None:
    data = _read("helsenorge-messaging_MetadataTestsDialogmelding11.xml")
    # The README records a genuine defect (misspelt XMLSchema-instance namespace on the
    # attachments): strict validation must refuse it, pointing at those lines only.
    with pytest.raises(SchemaInvalid) as caught:
        parse_msghead(data)
    assert caught.value.code == "epj.xml.schema_invalid"
    assert [w.split(":")[0] for w in caught.value.where] == ["line 98", "line 121"]
    # The metadata reader itself copes with it (BOM, ConversationRef, several Idents).
    info = read_msghead(schemas.load(data, schemas.MSGHEAD_ROOT))
    assert info.msg_id == "de1a95c0-4d0c-11e7-9598-0800200c9a66"
    assert info.conversation_ref is not None
    assert info.conversation_ref.parent == "d14ea2f3-d796-4d7b-8271-a4480d2b4035"
    assert info.conversation_ref.conversation == "a14ea2f3-d796-4d7b-8271-a4480d2b4037"
    assert info.sender_her_ids == (56704,)  # the HPR ident is not a HER-id
    assert info.receiver_her_ids == (59, 90998)
    assert info.notes[0].theme.v == "6"


def test_apprec_avvist_example() -> None:
    receipt = parse_apprec(_read("fiks-nhn-client_apprec-1.0-example-avvist.xml"))
    assert receipt.status is AppRecStatus.AVVIST
    assert receipt.original_msg_id == "a6967e6a-8c0a-4be4-a647-c921d3086423"
    assert receipt.original_msg_type == "EPIKRISE"
    assert len(receipt.errors) == 1
    err = receipt.errors[0]
    assert (err.code, err.description, err.system, err.detail) == (
        "E21", "Mottaker finnes ikke", "2.16.578.1.12.4.1.1.8221", "Legen har sluttet")
    assert receipt.text() == "E21 Mottaker finnes ikke Legen har sluttet"
    # V=" HER" (stray space in the example) still counts as a HER-id.
    assert receipt.sender_her_ids == (56704,)
    assert receipt.receiver_her_ids == (123459, 91126)


def test_apprec_ok_example_acknowledges_the_helsenorge_message() -> None:
    receipt = parse_apprec(_read("helsenorge-messaging_MetadataTests_Apprec10.xml"))
    assert receipt.status is AppRecStatus.OK
    assert receipt.errors == ()
    assert receipt.original_msg_id == "de1a95c0-4d0c-11e7-9598-0800200c9a66"
    assert receipt.original_msg_type == "DIALOG_HELSEFAGLIG"


def test_every_example_is_recognised_by_root(tmp_path: Path) -> None:
    names = sorted(p.name for p in EXAMPLES.glob("*.xml"))
    assert len(names) == 4
    for name in names:
        data = _read(name)
        root = "AppRec" if "apprec" in name.lower() else "MsgHead"
        expected = schemas.APPREC_ROOT if root == "AppRec" else schemas.MSGHEAD_ROOT
        assert schemas.load(data, expected).tag == expected
