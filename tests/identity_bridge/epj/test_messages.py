"""Every message the project produces validates; bad input fails with a stable code."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from identity_bridge.epj import codes, schemas
from identity_bridge.epj.apprec import build_apprec, parse_apprec
from identity_bridge.epj.errors import (
    EpjError,
    MessageInvalid,
    SchemaInvalid,
    XmlMalformed,
    XmlWrongRoot,
)
from identity_bridge.epj.model import (
    AppRecError,
    AppRecParty,
    AppRecStatus,
    ConversationRef,
    JournalNote,
    Nurse,
    Party,
    Patient,
)
from identity_bridge.epj.msghead import build_msghead, parse_msghead, render_msghead

from .conftest import FNR

SENDER = Party("Testkommune", 8000001, "999999999", Party("Helsestasjon for ungdom", 8000002))
RECEIVER = Party("Testkommune EPJ", 8000100)
OSLO = timezone(timedelta(hours=1))


def note(**over: object) -> JournalNote:
    base: dict[str, object] = {
        "msg_id": str(uuid.uuid4()),
        "sender": SENDER,
        "receiver": RECEIVER,
        "patient": Patient(FNR, "Test", "Ungdom"),
        "nurse": Nurse("Helle", "Sykepleier", "9144900"),
        "subject": "Samtale i helseprat",
        "text": "Snakket om søvn.",
        "generated_at": datetime(2025, 3, 14, 10, 0, tzinfo=OSLO),
        "note_date": date(2025, 3, 14),
    }
    base.update(over)
    return JournalNote(**base)  # type: ignore[arg-type]


def test_built_message_round_trips() -> None:
    n = note(conversation_ref=ConversationRef(str(uuid.uuid4()), str(uuid.uuid4())))
    data = render_msghead(n)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    info = parse_msghead(data)
    assert info.msg_type == "DIALOG_HELSEFAGLIG"
    assert info.msg_id == n.msg_id
    assert info.conversation_ref == n.conversation_ref
    assert info.sender_her_ids == (8000001, 8000002)
    assert info.receiver_her_ids == (8000100,)
    assert (info.patient_id_type, info.patient_ident) == ("FNR", FNR)
    assert info.notes[0].theme == codes.THEME_HENVENDELSE_OM_PASIENT
    assert info.notes[0].text == "Snakket om søvn."
    root = etree.fromstring(data)
    ns = {"mh": schemas.NS_MSGHEAD, "d": schemas.NS_DIALOG, "f": schemas.NS_FK1}
    type_id = root.find("mh:MsgInfo/mh:Patient/mh:Ident/mh:TypeId", ns)
    assert type_id is not None and type_id.get("S") == "2.16.578.1.12.4.1.1.8116"
    hpr = root.find(".//d:RollerRelatertNotat/d:HealthcareProfessional/d:Ident/f:Id", ns)
    assert hpr is not None and hpr.text == "9144900"
    enh = root.find("mh:MsgInfo/mh:Sender/mh:Organisation/mh:Ident/mh:TypeId", ns)
    assert enh is not None and enh.get("V") == "ENH"


def test_first_message_has_no_conversation_ref() -> None:
    assert parse_msghead(render_msghead(note())).conversation_ref is None


def test_d_number_gets_dnr_type() -> None:
    info = parse_msghead(render_msghead(note(patient=Patient("41017012345"))))
    assert info.patient_id_type == "DNR"


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(min_size=1, max_size=400),
    subject=st.text(min_size=1, max_size=60),
    given_name=st.text(min_size=1, max_size=30),
    hpr=st.one_of(st.none(), st.from_regex(r"\A[0-9]{7,9}\Z")),
    with_ref=st.booleans(),
)
def test_any_note_produces_a_schema_valid_message(
    text: str, subject: str, given_name: str, hpr: str | None, with_ref: bool
) -> None:
    ref = ConversationRef(str(uuid.uuid4()), str(uuid.uuid4())) if with_ref else None
    n = note(text=text, subject=subject, nurse=Nurse(given_name, "Sykepleier", hpr),
             conversation_ref=ref)
    root = build_msghead(n)  # raises SchemaInvalid if not valid
    schemas.validate_msghead(root)
    assert parse_msghead(schemas.serialize(root)).msg_id == n.msg_id


def test_schema_violation_on_build_fails_closed() -> None:
    # An empty MsgId-less message cannot be produced: a Party with a HER-id the schema
    # accepts but no name still validates, so break the tree itself after building.
    root = build_msghead(note())
    info = root.find(f"{{{schemas.NS_MSGHEAD}}}MsgInfo")
    assert info is not None
    info.remove(info.find(f"{{{schemas.NS_MSGHEAD}}}MsgId"))  # type: ignore[arg-type]
    with pytest.raises(SchemaInvalid) as caught:
        schemas.validate_msghead(root)
    assert caught.value.code == "epj.xml.schema_invalid"
    assert FNR not in str(caught.value)


@pytest.mark.parametrize(
    ("data", "error", "code"),
    [
        (b"", XmlMalformed, "epj.xml.malformed"),
        (b"<MsgHead><unclosed>", XmlMalformed, "epj.xml.malformed"),
        (b"not xml at all", XmlMalformed, "epj.xml.malformed"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>',
         XmlMalformed, "epj.xml.malformed"),
        (b'<Other xmlns="urn:x"/>', XmlWrongRoot, "epj.xml.wrong_root"),
        (b'<MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24"/>',
         SchemaInvalid, "epj.xml.schema_invalid"),
    ],
)
def test_bad_incoming_msghead_has_a_stable_code(
    data: bytes, error: type[EpjError], code: str
) -> None:
    with pytest.raises(error) as caught:
        parse_msghead(data)
    assert caught.value.code == code


def _apprec(status: AppRecStatus, errors: tuple[AppRecError, ...] = ()) -> bytes:
    return build_apprec(
        apprec_id=str(uuid.uuid4()), generated_at=datetime(2025, 3, 14, tzinfo=OSLO),
        sender=AppRecParty("EPJ", 8000100), receiver=AppRecParty.from_party(SENDER),
        status=status, errors=errors, original_msg_id="m-1",
        original_msg_type=codes.DIALOG_HELSEFAGLIG, original_issue_date="2025-03-14T10:00:00",
    )


def test_built_apprec_ok_and_avvist_round_trip() -> None:
    ok = parse_apprec(_apprec(AppRecStatus.OK))
    assert ok.status is AppRecStatus.OK and ok.errors == ()
    assert ok.receiver_her_ids == (8000001, 8000002)
    err = AppRecError("E21", "Mottaker finnes ikke", codes.APPREC_ERROR_OID, "ukjent")
    rejected = parse_apprec(_apprec(AppRecStatus.AVVIST, (err,)))
    assert rejected.status is AppRecStatus.AVVIST
    assert rejected.errors == (err,)
    partial = parse_apprec(_apprec(AppRecStatus.OK_FEIL_I_DELMELDING, (err,)))
    assert partial.status is AppRecStatus.OK_FEIL_I_DELMELDING


def test_apprec_unknown_status_and_missing_error_are_coded() -> None:
    data = _apprec(AppRecStatus.OK).replace(b'<Status V="1"', b'<Status V="9"')
    with pytest.raises(MessageInvalid) as caught:
        parse_apprec(data)
    assert caught.value.code == "epj.apprec.unknown_status"
    data = _apprec(AppRecStatus.OK).replace(b'<Status V="1" DN="OK"', b'<Status V="2"')
    with pytest.raises(MessageInvalid) as caught:
        parse_apprec(data)
    assert caught.value.code == "epj.apprec.missing_error"


def test_apprec_wrong_root_and_schema_violation() -> None:
    with pytest.raises(XmlWrongRoot):
        parse_apprec(render_msghead(note()))
    broken = _apprec(AppRecStatus.OK).replace(b"<MIGversion>", b"<Bogus/><MIGversion>")
    with pytest.raises(SchemaInvalid):
        parse_apprec(broken)
