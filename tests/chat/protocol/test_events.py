"""Typed outbound events: one per outbound schema, valid against it, and the same bytes as the
untyped frames they replace. No I/O."""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from chat.errors import ClientError, NotAuthorized
from chat.protocol import events as ev
from tests.chat.protocol import reference_frames as frames

CID = "c" * 22
CID2 = "d" * 22
TOKEN = "t" * 43
CMID = "m1234567"
BODY = "QUJD"


def schema_document() -> dict[str, Any]:
    text = resources.files("chat.protocol").joinpath("schema.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def outbound_validator(kind: str) -> Draft202012Validator:
    doc = schema_document()
    wrapped = {"$defs": doc["$defs"], **doc["outbound"][kind]}
    Draft202012Validator.check_schema(wrapped)
    return Draft202012Validator(wrapped)


# One representative of every event type, with its optional fields filled in.
EXAMPLES: list[ev.Event] = [
    ev.Started(conversation=CID, token=TOKEN, service="oslo-ungdom"),
    ev.Resumed(conversation=CID, service="oslo-ungdom", last_seq=3, key_bundle="a2I=", epoch=1,
               token=TOKEN, backup=""),
    ev.Ack(cmid=CMID, seq=4, conversation=CID, duplicate=False, ts=1700000000),
    ev.Deliver(seq=5, conversation=CID, from_="nurse", sender="Kari", cmid=CMID, body=BODY,
               ts=1700000000),
    ev.Typing(conversation=CID, from_="youth"),
    ev.Typing(conversation=CID, from_="nurse", stopped=True),
    ev.Queue(conversation=CID, position=1, waiting=3, expected_wait_s=None),
    ev.State(conversation=CID, state="active", service="oslo-ungdom", key_bundle="a2I=", epoch=2,
             nurse="Kari", verified={"method": "idporten", "acr": "idporten-loa-high",
                                     "level": "high", "age": 15},
             flag="", history=[{"service": "bergen", "epoch": 1}], helpers=["Per"],
             helping=False),
    ev.QueueSnapshot(service="oslo-ungdom",
                     items=[{"conversation": CID, "since": 1700000000, "online": True}]),
    ev.State(conversation=CID, state="later", due=1700086400),
    ev.LaterSnapshot(service="oslo-ungdom",
                     items=[{"conversation": CID, "owed": 1700000000, "due": 1700086400,
                             "returning": ""},
                            {"conversation": CID2, "owed": 1700000001, "due": None,
                             "returning": "resumed"}]),
    ev.Claimed(conversation=CID),
    ev.HistoryEnd(conversation=CID, last_seq=9),
    ev.Error(code="bad_token", message="No.", ref=CMID),
    ev.Reconnect(reason="server_restart"),
    ev.Pong(),
    ev.Rekeyed(conversation=CID, epoch=3),
    ev.Feedback(conversation=CID, counted=True),
    ev.Push(conversation=CID, on=True),
    ev.DevicePending(conversation=CID, device="0123456789abcdef", box="Ym94", sign="c2ln",
                     acr="idporten-loa-high", at=1700000000),
    ev.DeviceReady(conversation=CID, device="0123456789abcdef", sign="c2ln", key_bundle="a2I=",
                   by="Kari"),
    ev.Resealed(conversation=CID, device="0123456789abcdef"),
    ev.Hello(nurse="Kari", role="nurse",
             services=[{"id": "oslo-ungdom", "name": "Oslo", "outcomes": ["advice"]}],
             open=[CID], journal={"services": ["oslo-ungdom"], "gateway_key": "a2V5"}),
    ev.Dashboard(services=[{"id": "oslo-ungdom", "target_wait_s": 120, "escalation": "",
                            "members": []}],
                 transfer_services=[{"id": "oslo-ungdom", "name": "Oslo"}], lead=False),
    ev.Board(service="oslo-ungdom", flags=[{"conversation": CID, "kind": "acute",
                                             "state": "active", "nurse": "Kari"}],
             on_duty=["Kari"], target_wait_s=120),
    ev.Assigned(conversation=CID, service="oslo-ungdom"),
    ev.Transferred(conversation=CID, service="bergen", state="waiting", to_nurse=""),
    ev.Flagged(conversation=CID, flag="acute", escalation="Ring 113."),
    ev.StartPause(conversation=CID, until=1_800_000_000),
    ev.Load(capacity=4, used=1, on_break=False),
    ev.Note(conversation=CID, id="1700000000000-0", sender="Kari", service="oslo-ungdom",
            body=BODY, ts=1700000000),
    ev.System(conversation=CID, code="inactivity_warning", minutes=5,
              text={"nb": "Hei", "nn": "Hei", "en": "Hi"}),
    ev.Overview(service="oslo-ungdom", day="2026-01-05", figures={"started": 3}),
    ev.Audit(service="oslo-ungdom", entries=[{"ts": 1, "actor": "kari", "action": "view_audit",
                                              "conversation": "", "detail": ""}]),
    ev.JournalStatus(conversation=CID, msg_id="5b0c1f4e-8b7a-4e0e-9f6e-1a2b3c4d5e6f",
                     status="accepted", code="", text="", at=1700000000),
    ev.Invited(conversation=CID, service="oslo-ungdom", by="Kari"),
    ev.InviteSent(conversation=CID, nurse="per.nurse"),
    ev.Left(conversation=CID),
    ev.AppointmentStatus(conversation=CID, proposal_id="5b0c1f4e-8b7a-4e0e-9f6e-1a2b3c4d5e6f",
                         status="proposed", start="2026-03-24T14:00", place="Rom 2"),
]


def test_every_outbound_type_has_an_event_class_and_back() -> None:
    schema_types = set(schema_document()["outbound"])
    classes = set(ev.every_event_type())
    assert classes - schema_types == set(), "add a schema to schema.json's outbound part"
    assert schema_types - classes == set(), "add an event class to chat/protocol/events.py"


def test_every_event_class_has_an_example() -> None:
    assert {e.type for e in EXAMPLES} == set(ev.every_event_type())


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.type)
def test_event_validates_against_its_schema(event: ev.Event) -> None:
    text = ev.encode(event)
    obj = json.loads(text)
    assert list(obj)[:2] == ["v", "type"]
    assert obj["type"] == event.type
    errors = [e.message for e in outbound_validator(event.type).iter_errors(obj)]
    assert errors == []


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.type)
def test_event_is_the_legacy_frame_byte_for_byte(event: ev.Event) -> None:
    fields = {k: v for k, v in event.payload().items() if k not in ("v", "type")}
    assert ev.encode(event) == frames.frame(event.type, **fields)


def test_deliver_bytes_and_template() -> None:
    event = ev.Deliver(seq=12, conversation=CID, from_="youth", sender="youth", cmid=CMID,
                       body=BODY, ts=1700000001)
    expected = (f'{{"v":1,"type":"deliver","seq":12,"conversation":"{CID}","from":"youth",'
                f'"sender":"youth","cmid":"{CMID}","body":"{BODY}","ts":1700000001}}')
    assert ev.encode(event) == expected
    prefix, suffix = event.split()
    assert f"{prefix}12{suffix}" == expected
    assert ev.deliver_template(CID, "youth", "youth", CMID, BODY, 1700000001) == (prefix, suffix)
    assert frames.deliver(CID, 12, "youth", "youth", CMID, BODY, 1700000001) == expected


def test_ack_leaves_ts_out_for_a_duplicate() -> None:
    dup = ev.Ack(cmid=CMID, seq=4, conversation=CID, duplicate=True)
    assert ev.encode(dup) == frames.frame("ack", cmid=CMID, seq=4, conversation=CID,
                                          duplicate=True)
    assert ev.encode(dup) == frames.ack(CMID, 4, True, 0, conversation=CID)
    new = ev.Ack(cmid=CMID, seq=4, conversation=CID, duplicate=False, ts=17)
    assert ev.encode(new) == (f'{{"v":1,"type":"ack","cmid":"{CMID}","seq":4,'
                              f'"conversation":"{CID}","duplicate":false,"ts":17}}')
    bare = ev.Ack(cmid=CMID, seq=4, duplicate=False, ts=17)
    assert ev.encode(bare) == frames.frame("ack", cmid=CMID, seq=4, duplicate=False, ts=17)


def test_error_leaves_ref_out_when_none() -> None:
    assert ev.encode(ev.Error(code="rate_limited", message="Slow.")) == \
        '{"v":1,"type":"error","code":"rate_limited","message":"Slow."}'
    assert ev.encode(ev.Error(code="rate_limited", message="Slow.", ref=CMID)) == \
        frames.frame("error", code="rate_limited", message="Slow.", ref=CMID)
    err: ClientError = NotAuthorized("Not yours.")
    assert ev.encode(ev.Error.of(err, CID)) == \
        frames.frame("error", code="not_authorized", message="Not yours.", ref=CID)


def test_state_with_extras_in_the_order_the_endpoints_send_them() -> None:
    nurse_open = ev.State(conversation=CID, state="waiting", service="oslo-ungdom",
                          key_bundle="a2I=", epoch=1, nurse="", flag="", history=[])
    assert ev.encode(nurse_open) == frames.frame(
        "state", conversation=CID, state="waiting", service="oslo-ungdom", key_bundle="a2I=",
        epoch=1, nurse="", flag="", history=[])
    moved = ev.State(conversation=CID, state="active", service="bergen", transferred=True,
                     nurse="Ola")
    assert ev.encode(moved) == frames.frame("state", conversation=CID, state="active",
                                            service="bergen", transferred=True, nurse="Ola")
    closed = ev.State(conversation=CID, state="closed", outcome="youth_ended")
    assert ev.encode(closed) == \
        f'{{"v":1,"type":"state","conversation":"{CID}","state":"closed","outcome":"youth_ended"}}'
    linked = ev.State(conversation=CID, state="active", verified={"method": "idporten"})
    assert ev.encode(linked) == frames.frame("state", conversation=CID, state="active",
                                             verified={"method": "idporten"})


def test_a_later_state_always_says_due() -> None:
    assert ev.encode(ev.State(conversation=CID, state="later")) == (
        f'{{"v":1,"type":"state","conversation":"{CID}","state":"later","due":null}}')
    assert ev.encode(ev.State(conversation=CID, state="later", due=5)).endswith('"due":5}')
    assert "due" not in ev.encode(ev.State(conversation=CID, state="waiting"))


def test_queue_keeps_a_null_expected_wait() -> None:
    q = ev.Queue(conversation=CID, position=2, waiting=5, expected_wait_s=None)
    assert ev.encode(q) == (f'{{"v":1,"type":"queue","conversation":"{CID}","position":2,'
                            f'"waiting":5,"expected_wait_s":null}}')


def test_optional_fields_are_left_out_when_none() -> None:
    assert ev.encode(ev.Resumed(conversation=CID, service="s", last_seq=0, key_bundle="",
                                epoch=0)) == frames.frame(
        "resumed", conversation=CID, service="s", last_seq=0, key_bundle="", epoch=0)
    assert ev.encode(ev.System(conversation=CID, code="inactivity_closed", text={"en": "Bye"})) \
        == frames.frame("system", conversation=CID, code="inactivity_closed", text={"en": "Bye"})
    assert "journal" not in json.loads(ev.encode(ev.Hello(nurse="K", role="nurse", services=[],
                                                          open=[])))
    assert ev.encode(ev.JournalStatus(conversation=CID, msg_id="x", status="queued", code="",
                                      text="")) == frames.frame(
        "journal_status", conversation=CID, msg_id="x", status="queued", code="", text="")


def test_non_ascii_is_sent_as_is() -> None:
    text = ev.encode(ev.System(conversation=CID, code="c", text={"nb": "Samtalen ble avsluttet på"}))
    assert "på" in text
    assert text == frames.frame("system", conversation=CID, code="c",
                                text={"nb": "Samtalen ble avsluttet på"})


def test_board_and_note_from_the_dashboard_dicts() -> None:
    board: dict[str, object] = {"service": "s", "flags": [], "on_duty": ["Kari"],
                                "target_wait_s": 90}
    assert ev.encode(ev.Board.of(board)) == frames.frame("board", **board)
    note: dict[str, object] = {"id": "1-0", "sender": "Kari", "service": "s", "body": BODY,
                               "ts": 5}
    assert ev.encode(ev.Note.of(CID, note)) == frames.frame("note", conversation=CID, **note)


def test_events_are_frozen() -> None:
    claimed = ev.Claimed(conversation=CID)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(claimed, "conversation", CID2)  # noqa: B010
    assert claimed.conversation == CID
