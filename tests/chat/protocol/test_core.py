"""The sans-I/O protocol core: frames in, commands or errors out. No sockets, no Redis."""

from __future__ import annotations

import json

import pytest

from chat.limits import Limits
from chat.protocol import commands as c
from chat.protocol.core import Connection, ConnState, Rejected, Role

CID = "AbCdEfGhIjKlMnOpQrStUv"
TOKEN = "t" * 43


def youth(**limits: object) -> Connection:
    return Connection(Role.YOUTH, Limits(**limits))  # type: ignore[arg-type]


def frame(**kw: object) -> str:
    return json.dumps({"v": 1, **kw})


def rejected_code(result: object) -> str:
    assert isinstance(result, Rejected), result
    return result.error.code


def test_start_is_parsed_into_a_command() -> None:
    conn = youth()
    resume = {"handle": "abandon ability able", "auth": "ab" * 32, "backup": "AAAA"}
    cmd = conn.receive(frame(type="start", service="demo-skole", resume=resume), 0.0)
    assert cmd == c.Start("demo-skole", "", 0, c.ResumeSetup("abandon ability able", "ab" * 32,
                                                             "AAAA"))
    assert conn.state is ConnState.NEW


def test_send_before_start_is_an_invalid_state() -> None:
    conn = youth()
    r = conn.receive(frame(type="send", cmid="abcdefgh", body="aGVp"), 0.0)
    assert rejected_code(r) == "invalid_state"
    assert isinstance(r, Rejected) and r.ref == "abcdefgh"


def test_bound_connection_sends_to_its_own_conversation() -> None:
    conn = youth()
    conn.bind(CID)
    cmd = conn.receive(frame(type="send", cmid="abcdefgh", body="aGVp"), 0.0)
    assert cmd == c.Send(CID, "abcdefgh", "aGVp")
    # A second start on a bound connection is refused.
    assert rejected_code(conn.receive(frame(type="start", service="x"), 0.0)) == "invalid_state"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("{not json", "bad_frame"),
        ("[1,2]", "bad_frame"),
        (b"\xff\xfe", "bad_frame"),
        (json.dumps({"v": 2, "type": "start", "service": "x"}), "unsupported_version"),
        (json.dumps({"type": "start", "service": "x"}), "unsupported_version"),
        (frame(type="shout"), "unknown_type"),
        (frame(type=None), "unknown_type"),
        (frame(type="start"), "schema_violation"),
        (frame(type="start", service="Not A Service!"), "schema_violation"),
        (frame(type="start", service="x", extra=1), "schema_violation"),
        (frame(type="resume", conversation=CID, token="short", after=0), "schema_violation"),
        (frame(type="resume", conversation=CID, token=TOKEN, after=-1), "schema_violation"),
        # Nurse-only messages do not exist for youths.
        (frame(type="claim", conversation=CID), "unknown_type"),
    ],
)
def test_bad_frames_get_stable_codes(data: str | bytes, code: str) -> None:
    assert rejected_code(youth().receive(data, 0.0)) == code


def test_oversize_frame_is_refused_before_parsing() -> None:
    conn = youth(max_frame_bytes=1000)
    conn.bind(CID)
    r = conn.receive(frame(type="send", cmid="abcdefgh", body="A" * 2000), 0.0)
    assert rejected_code(r) == "frame_too_large"


def test_body_must_be_base64_and_bounded() -> None:
    conn = youth()
    conn.bind(CID)
    assert rejected_code(conn.receive(frame(type="send", cmid="abcdefgh", body="not base64!"), 0)) \
        == "schema_violation"
    huge = "A" * (65536 + 4)
    assert rejected_code(conn.receive(frame(type="send", cmid="abcdefgh", body=huge), 0)) \
        == "schema_violation"


def test_send_rate_limit_refills_with_the_injected_clock() -> None:
    conn = youth(send_burst=3, sends_per_second=1.0)
    conn.bind(CID)
    sends = [conn.receive(frame(type="send", cmid=f"abcdefg{i}", body="aGVp"), 0.0)
             for i in range(4)]
    assert all(isinstance(s, c.Send) for s in sends[:3])
    assert rejected_code(sends[3]) == "rate_limited"
    # One second later one more token is there.
    assert isinstance(conn.receive(frame(type="send", cmid="abcdefgz", body="aGVp"), 1.0), c.Send)


def test_flooding_ends_the_connection() -> None:
    conn = youth(frame_burst=5, frames_per_second=1.0)
    results = [conn.receive(frame(type="ping"), 0.0) for _ in range(20)]
    rejected = [r for r in results if isinstance(r, Rejected)]
    assert rejected and all(r.error.code == "rate_limited" for r in rejected)
    assert rejected[-1].fatal
    assert not rejected[0].fatal


def test_nurse_commands() -> None:
    conn = Connection(Role.NURSE, Limits())
    assert conn.receive(frame(type="claim", conversation=CID), 0) == c.Claim(CID)
    assert conn.receive(frame(type="close", conversation=CID, outcome="referred"), 0) == \
        c.Close(CID, "referred")
    assert conn.receive(frame(type="open", conversation=CID, after=7), 0) == c.Open(CID, 7)
    assert rejected_code(conn.receive(frame(type="send", cmid="abcdefgh", body="aGVp"), 0)) == \
        "schema_violation"  # a nurse must name the conversation


def test_closed_connection_accepts_nothing() -> None:
    conn = youth()
    conn.close()
    r = conn.receive(frame(type="ping"), 0)
    assert isinstance(r, Rejected) and r.fatal


# What every client sends when it comes back (all at once after a restart) skips the JSON Schema
# validator when plain checks can tell it is valid; anything else still meets the schema.
_REATTACH = [
    ("youth", {"type": "resume", "conversation": CID, "token": TOKEN, "after": 0}, True),
    ("youth", {"type": "resume", "conversation": CID, "token": TOKEN, "after": 2**53 - 1}, True),
    ("youth", {"type": "resume", "conversation": CID, "token": TOKEN, "after": 2**53}, False),
    ("youth", {"type": "resume", "conversation": CID, "token": TOKEN, "after": -1}, False),
    ("youth", {"type": "resume", "conversation": CID, "token": TOKEN, "after": True}, False),
    ("youth", {"type": "resume", "conversation": CID, "token": TOKEN, "after": 3.0}, False),
    ("youth", {"type": "resume", "conversation": CID, "token": TOKEN}, False),
    ("youth", {"type": "resume", "conversation": CID, "token": TOKEN + "x", "after": 0}, False),
    ("youth", {"type": "resume", "conversation": CID, "token": "t" * 42 + "!", "after": 0}, False),
    ("youth", {"type": "resume", "conversation": "short", "token": TOKEN, "after": 0}, False),
    ("youth", {"type": "resume", "conversation": CID + "\n", "token": TOKEN, "after": 0}, False),
    ("youth", {"type": "resume", "conversation": CID, "token": TOKEN, "after": 0, "x": 1}, False),
    ("nurse", {"type": "open", "conversation": CID}, True),
    ("nurse", {"type": "open", "conversation": CID, "after": 12}, True),
    ("nurse", {"type": "open", "conversation": CID, "after": "12"}, False),
    ("nurse", {"type": "open", "conversation": CID, "after": -1}, False),
    ("nurse", {"type": "open", "conversation": "x" * 33, "after": 1}, False),
    ("nurse", {"type": "open", "conversation": CID, "after": 1, "token": TOKEN}, False),
]


@pytest.mark.parametrize(("role", "obj", "fast"), _REATTACH)
def test_reattach_frames_take_the_fast_path_only_when_the_schema_agrees(
    role: str, obj: dict[str, object], fast: bool,
) -> None:
    from chat.protocol.core import fast_valid, validators

    r = Role(role)
    full = {"v": 1, **obj}
    assert fast_valid(r, obj["type"], full) is fast  # False: the schema decides, as before
    if fast:  # never accepts what the schema refuses
        validators(r)[str(obj["type"])].validate(full)


def test_resume_and_open_are_parsed_the_same_on_the_fast_path() -> None:
    assert youth().receive(frame(type="resume", conversation=CID, token=TOKEN, after=4), 0) == \
        c.Resume(CID, TOKEN, 4)
    nurse = Connection(Role.NURSE, Limits())
    assert nurse.receive(frame(type="open", conversation=CID), 0) == c.Open(CID, 0)
    assert rejected_code(youth().receive(frame(type="resume", conversation=CID, token=TOKEN,
                                               after=-1), 0)) == "schema_violation"


def test_feedback_is_for_a_bound_youth_and_must_be_a_boolean() -> None:
    conn = youth()
    assert rejected_code(conn.receive(frame(type="feedback", helpful=True), 0.0)) == "invalid_state"
    conn.bind(CID)
    assert conn.receive(frame(type="feedback", helpful=False), 0.0) == c.Feedback(CID, False)
    assert rejected_code(conn.receive(frame(type="feedback", helpful="yes"), 0.0)) \
        == "schema_violation"
    assert rejected_code(conn.receive(frame(type="feedback"), 0.0)) == "schema_violation"


def test_typing_can_say_the_field_was_cleared() -> None:
    conn = youth()
    conn.bind(CID)
    assert conn.receive(frame(type="typing"), 0.0) == c.Typing(CID, False)
    assert conn.receive(frame(type="typing", stopped=True), 0.0) == c.Typing(CID, True)
    nurse = Connection(Role.NURSE, Limits())
    assert nurse.receive(frame(type="typing", conversation=CID, stopped=True), 0.0) \
        == c.Typing(CID, True)


def test_later_is_for_a_bound_youth_and_names_no_conversation() -> None:
    conn = youth()
    assert rejected_code(conn.receive(frame(type="later"), 0.0)) == "invalid_state"
    conn.bind(CID)
    assert conn.receive(frame(type="later"), 0.0) == c.Later(CID)
    assert rejected_code(conn.receive(frame(type="later", conversation=CID), 0.0)) \
        == "schema_violation"


def test_a_nurse_parks_a_named_conversation_for_later() -> None:
    nurse = Connection(Role.NURSE, Limits())
    assert nurse.receive(frame(type="later", conversation=CID), 0.0) == c.ParkLater(CID)
    assert rejected_code(nurse.receive(frame(type="later"), 0.0)) == "schema_violation"
    assert rejected_code(nurse.receive(frame(type="later", conversation="x"), 0.0)) \
        == "schema_violation"


def test_push_frames_are_parsed_once_bound() -> None:
    conn = youth()
    sub = {"endpoint": "https://fcm.googleapis.com/x", "keys": {"p256dh": "a", "auth": "b"}}
    assert rejected_code(conn.receive(frame(type="push_subscribe", **sub), 0)) == "invalid_state"
    conn.bind(CID)
    cmd = conn.receive(frame(type="push_subscribe", **sub, lang="en"), 0)
    assert cmd == c.PushSubscribe(CID, {**sub, "lang": "en"})
    assert conn.receive(frame(type="push_subscribe", **sub), 0) == c.PushSubscribe(
        CID, {**sub, "lang": "nb"})
    assert conn.receive(frame(type="push_unsubscribe"), 0) == c.PushUnsubscribe(CID)
    for bad in ({**sub, "keys": {"p256dh": "a"}}, {**sub, "lang": "sv"}, {**sub, "extra": 1},
                {"endpoint": "x" * 4097, "keys": sub["keys"]}):
        assert rejected_code(conn.receive(frame(type="push_subscribe", **bad), 0)) == \
            "schema_violation"
