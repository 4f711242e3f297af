"""A nurse's proposal of a time: the checks on the dashboard's frame, the record's states
(proposed → booking_sent → booked / booking_refused, or proposal_declined), the frame's
schema, and withdrawing a wish. Free of I/O."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chat.limits import Limits
from chat.protocol import commands as c
from chat.protocol.core import Connection, Rejected, Role
from identity_bridge.epj.appointment_record import (
    AppointmentState,
    booking_answered,
    booking_sent,
    reminder_times,
)
from identity_bridge.epj.appointment_stats import metric
from identity_bridge.epj.ical import EventStatus
from identity_bridge.epj.proposal import (
    ProposalInvalid,
    answer_refusal,
    check_proposal,
    local_start,
    proposal_id_of,
    proposed_record,
)
from identity_bridge.epj.wish import Wish, WishState, answered, withdrawn

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
PID = "0b8f3c52-6a51-4a8e-9d1e-2f4b0c7a9e11"


def propose(**over: object) -> object:
    fields: dict[str, object] = {"proposal_id": PID, "start": "2026-03-24T14:00", "minutes": 30,
                                 "place": "Helsestasjonen, rom 2", "type_code": "SAMTALE",
                                 "who": "Helsesykepleier Hanne", "now": NOW}
    fields.update(over)
    return check_proposal(**fields)  # type: ignore[arg-type]


def record(**over: object):  # type: ignore[no-untyped-def]
    p = propose()
    return proposed_record(p, aid="a" * 32, epj_her=8000100, service_category="6",  # type: ignore[arg-type]
                           summary="Helsestasjon for ungdom", conversation="c" * 22, now=NOW)


def test_oslo_wall_clock_time_in_utc_across_daylight_saving() -> None:
    assert local_start("2026-03-24T14:00") == datetime(2026, 3, 24, 13, 0, tzinfo=UTC)  # CET
    assert local_start("2026-04-01T14:00") == datetime(2026, 4, 1, 12, 0, tzinfo=UTC)  # CEST
    # 29 March 2026 02:30 never shows on a Norwegian clock.
    with pytest.raises(ProposalInvalid) as gap:
        local_start("2026-03-29T02:30")
    assert gap.value.code == "proposal_bad_time"
    # 25 October 2026 02:30 happens twice: the first (still summer time).
    assert local_start("2026-10-25T02:30") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(("over", "code"), [
    ({"start": "2026-03-20T09:59"}, "proposal_in_past"),  # 08:59 UTC: before now
    ({"start": "2026-03-20 14:00"}, "proposal_bad_time"),
    ({"start": "2026-02-30T14:00"}, "proposal_bad_time"),
    ({"start": "2027-03-24T14:00"}, "proposal_bad_time"),  # more than 180 days ahead
    ({"minutes": 0}, "proposal_bad_duration"),
    ({"minutes": 4}, "proposal_bad_duration"),
    ({"minutes": 241}, "proposal_bad_duration"),
    ({"place": "   "}, "proposal_bad_place"),
    ({"place": "x" * 201}, "proposal_bad_place"),
    ({"place": "rom\n2"}, "proposal_bad_place"),
])
def test_bad_proposals_are_refused_with_a_stable_code(over: dict[str, object], code: str) -> None:
    with pytest.raises(ProposalInvalid) as refused:
        propose(**over)
    assert refused.value.code == code


def test_a_good_proposal_is_a_youth_only_record_without_reminders_until_booked() -> None:
    r = record()
    assert r.state is AppointmentState.PROPOSED and r.youth_only
    assert (r.start, r.end) == (datetime(2026, 3, 24, 13, 0, tzinfo=UTC),
                                datetime(2026, 3, 24, 13, 30, tzinfo=UTC))
    assert proposal_id_of(r) == PID and r.uid == PID + "@helseprat"
    assert reminder_times(r) == {"24h": None, "2h": None}
    assert answer_refusal(r, NOW) is None
    assert answer_refusal(r, r.start) == "proposal_in_past"
    assert "Helsestasjonen" not in repr(r)


def test_accepted_then_the_epj_books_or_refuses() -> None:
    sent = booking_sent(record(), "m-1", NOW)
    assert sent.state is AppointmentState.BOOKING_SENT
    assert answer_refusal(sent, NOW) == "proposal_not_open"
    event = replace(sent.event(), start=sent.start + timedelta(minutes=15),
                    end=sent.end + timedelta(minutes=15))
    assert booking_answered(sent, "other", event, "", NOW) is None  # not our open request
    booked = booking_answered(sent, "m-1", event, "Timen er bestilt.", NOW)
    assert booked is not None and booked.state is AppointmentState.BOOKED
    assert booked.start == event.start  # the EPJ's time is the one kept
    assert reminder_times(booked)["24h"] == booked.start - timedelta(hours=24)
    assert metric(sent, booked) == "booked"  # the leads count it as a new appointment
    assert booking_answered(booked, "m-1", event, "", NOW) is None  # a resend changes nothing
    no = booking_answered(sent, "m-1", replace(event, status=EventStatus.CANCELLED),
                          "Ikke ledig", NOW)
    assert no is not None and (no.state, no.answer) == (AppointmentState.BOOKING_REFUSED,
                                                        "Ikke ledig")
    avvist = booking_answered(sent, "m-1", None, "AppRec: ukjent", NOW)
    assert avvist is not None and avvist.state is AppointmentState.BOOKING_REFUSED


def test_the_record_with_its_conversation_survives_the_seal_format() -> None:
    r = booking_sent(record(), "m-1", NOW)
    assert type(r).from_json(r.to_json()) == r
    old = r.to_json().replace(',"conversation":"' + "c" * 22 + '"', "")
    assert type(r).from_json(old).conversation == ""  # records written before proposals


def test_a_wish_not_yet_answered_can_be_withdrawn_once() -> None:
    wish = Wish(wid="w" * 32, service="demo-hfu", epj_her=8000100,
                earliest=datetime(2026, 3, 25).date(), created=NOW, msg_id="wish-1", text="søvn")
    gone = withdrawn(wish, "withdraw-1")
    assert gone is not None and gone.state is WishState.WITHDRAWN
    assert (gone.msg_id, gone.wish_msg_id) == ("withdraw-1", "wish-1")
    assert gone.event(withdrawn=True).status is EventStatus.CANCELLED
    assert withdrawn(gone, "withdraw-2") is None
    # The EPJ's answer to the wish itself, arriving afterwards, changes nothing.
    assert answered(gone, "wish-1", wish.event(), "Du har fått time.") is None
    booked = answered(wish, "wish-1", wish.event(), "")
    assert booked is not None and withdrawn(booked, "w-3") is None
    assert Wish.from_json(gone.to_json()) == gone


FRAME = {"v": 1, "type": "propose_appointment", "conversation": "c" * 22, "proposal_id": PID,
         "start": "2026-03-24T14:00", "minutes": 30, "place": "Rom 2", "type_code": "SAMTALE"}


def _nurse_frame(**over: object) -> object:
    conn = Connection(Role.NURSE, Limits())
    return conn.receive(json.dumps({**FRAME, **over}), 0.0)


def test_the_frame_parses_and_the_schema_refuses_what_is_not_a_proposal() -> None:
    cmd = _nurse_frame()
    assert cmd == c.ProposeAppointment("c" * 22, PID, "2026-03-24T14:00", 30, "Rom 2", "SAMTALE")
    for over in ({"minutes": "30"}, {"start": "24.03.2026 14:00"}, {"proposal_id": "x"},
                 {"type_code": "samtale"}, {"extra": 1}, {"place": "x" * 401}):
        rejected = _nurse_frame(**over)
        assert isinstance(rejected, Rejected) and rejected.error.code == "schema_violation", over
