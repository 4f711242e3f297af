"""The EPJ stand-in: the municipality's record system as far as appointments go.

It is a client of the NHN lookalike like helseprat's worker (HelseID client credentials with
DPoP, its own HER-id), so every message it sends is schema-checked there and reaches
helseprat the way a real EPJ's would. It

- publishes appointments (``DIALOG_INNBYGGER_AVTALEUTSENDING``) when told to through its
  control API, and moves or cancels them (the same UID, a higher SEQUENCE);
- takes helseprat's cancellation requests from its inbox, answers each with an AppRec, then
  with a ``SvarAvbestilling``: accepted, refused, or never; or rejects it by the AppRec
  (``/_dev/mode``);
- answers a youth's wish (``DIALOG_INNBYGGER_TIMEONSKEUNGDOM``): books a time (an Avtale,
  then a ``SvarØnske``), declines it, or never answers (``/_dev/mode {wishes}``); a wish's
  withdrawal (``STATUS:CANCELLED``) is noted and answered by the receipt only;
- books a nurse's proposal the youth accepted (the same message function with the proposed
  time and type): a ``SvarØnske`` with that time, or declined, by ``/_dev/mode {bookings}``;
- records the AppRecs helseprat sends back, for tests to read (``/_dev/state``);
- can be told to send a broken iCalendar part (``"broken": "ical"``) or a VEVENT without
  a start (``"broken": "no_start"``).

Control API (loopback, not a real EPJ's): ``POST /_dev/appointments``, ``POST /_dev/mode``,
``GET /_dev/state``, ``GET /_dev/health``. State is in memory: a restart forgets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from identity_bridge.epj import codes
from identity_bridge.epj.appointments import (
    AppointmentMessage,
    build_appointment_message,
    parse_appointment_message,
)
from identity_bridge.epj.apprec import parse_apprec
from identity_bridge.epj.errors import EpjError
from identity_bridge.epj.helseid import HelseIdClient, HelseIdSettings
from identity_bridge.epj.ical import OSLO, CalendarEvent, EventStatus, Security, render_event
from identity_bridge.epj.keys import load_client_key
from identity_bridge.epj.model import AppRecError, AppRecStatus, ConversationRef, Party, Patient
from identity_bridge.epj.msh import IncomingMessage, MshClient, MshSettings

log = logging.getLogger("devservices.epj")

REFUSAL_TEXT = "Timen kan ikke avbestilles her. Ring helsestasjonen."
DECLINE_TEXT = "Vi har ingen ledig time da. Ring oss, så finner vi en."
BOOKING_DECLINED = "Den tiden er ikke ledig lenger. Helsesykepleieren foreslår en ny."
WISH_TYPE = "TIMEONSKE"  # the type code of a youth's wish (identity_bridge/epj/wish.py)


@dataclass(frozen=True)
class StandinSettings:
    nhn_url: str
    client_id: str
    key_file: Path
    epj: Party  # this record system, as the address register knows it
    service: Party  # helseprat's municipality and service (the appointments' receiver)
    poll_s: float = 0.2

    @classmethod
    def from_json(cls, raw: dict[str, Any], base: Path) -> StandinSettings:
        def party(d: dict[str, Any]) -> Party:
            unit = Party(d["unit_name"], int(d["unit_her_id"])) if "unit_her_id" in d else None
            return Party(d["name"], int(d["her_id"]), d.get("org_number"), unit)

        return cls(nhn_url=raw["nhn_url"], client_id=raw["client_id"],
                   key_file=base / raw["key_file"], epj=party(raw["epj"]),
                   service=party(raw["service"]), poll_s=float(raw.get("poll_s", 0.2)))


def load_settings(path: Path) -> StandinSettings:
    return StandinSettings.from_json(json.loads(path.read_text()), path.parent)


@dataclass
class Booked:
    pid: str
    event: CalendarEvent


@dataclass
class StandinState:
    settings: StandinSettings
    msh: MshClient | None = None
    # "accept" | "refuse" (SvarAvbestilling: no) | "reject" (AppRec Avvist) | "ignore"
    cancellations: str = "accept"
    wish_mode: str = "book"  # "book" | "decline" | "ignore"
    booking_mode: str = "book"  # "book" | "decline" | "ignore"
    bookings: list[dict[str, Any]] = field(default_factory=list)  # accepted proposals
    wishes: list[dict[str, Any]] = field(default_factory=list)  # the youth's wishes
    appointments: dict[str, Booked] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)  # what we published
    receipts: list[dict[str, Any]] = field(default_factory=list)  # AppRecs from helseprat
    requests: list[dict[str, Any]] = field(default_factory=list)  # cancellation requests

    @property
    def client(self) -> MshClient:
        assert self.msh is not None, "used before the stand-in started"
        return self.msh


def _now() -> datetime:
    return datetime.now().astimezone()


async def _send(st: StandinState, *, msg_type: codes.Code, pid: str, calendar: bytes,
                note: str = "", ref: ConversationRef | None = None) -> tuple[str, str]:
    msg_id = str(uuid.uuid4())
    document = build_appointment_message(
        msg_type=msg_type, msg_id=msg_id, generated_at=_now(), sender=st.settings.epj,
        receiver=st.settings.service, patient=Patient(pid), calendar=calendar, note=note,
        conversation_ref=ref)
    nhn_id = await st.client.send_message(document)
    return msg_id, nhn_id


def _status(body: dict[str, Any]) -> EventStatus:
    """``status``: "cancelled", "noshow", "fulfilled"; anything else (or none): booked."""
    return {"cancelled": EventStatus.CANCELLED, "noshow": EventStatus.NOSHOW,
            "fulfilled": EventStatus.FULFILLED}.get(str(body.get("status", "")),
                                                    EventStatus.BOOKED)


def _event(body: dict[str, Any], previous: Booked | None) -> CalendarEvent:
    start = datetime.fromisoformat(str(body["start"])) if "start" in body else None
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=OSLO)
    if previous is not None:
        event = previous.event
        begin = start or event.start
        length = timedelta(minutes=int(body["minutes"])) if "minutes" in body \
            else event.end - event.start
        return replace(event, sequence=int(body.get("sequence", event.sequence + 1)),
                       start=begin.astimezone(UTC), end=(begin + length).astimezone(UTC),
                       status=_status(body),
                       location=str(body.get("location", event.location)))
    if start is None:
        raise KeyError("start")
    return CalendarEvent(
        uid=str(body.get("uid") or f"{uuid.uuid4()}@epj.demo"),
        sequence=int(body.get("sequence", 0)),
        start=start.astimezone(UTC),
        end=(start + timedelta(minutes=int(body.get("minutes", 30)))).astimezone(UTC),
        status=_status(body),
        type_code=str(body.get("type_code", "SAMTALE")),
        summary=str(body.get("summary", "Samtale med helsesykepleier")),
        location=str(body.get("location", "Helsestasjon for ungdom, 2. etasje")),
        who=str(body.get("who", "Helsesykepleier Hanne")),
        service_category=str(body.get("service_category", "6")),
        security=Security.NORN_FORANS if body.get("youth_only") else Security(
            str(body.get("security", ""))),
        cancellable=bool(body.get("cancellable", True)),
        changeable=bool(body.get("changeable", True)),
    )


async def publish(request: Request) -> Response:
    st: StandinState = request.app.state.epj
    try:
        body = await request.json()
        previous = st.appointments.get(str(body.get("uid", "")))
        pid = str(body.get("pid") or (previous.pid if previous else ""))
        if not pid:
            raise KeyError("pid")
        event = _event(body, previous)
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": "bad appointment"}, status_code=400)
    broken = body.get("broken")
    calendar = render_event(event, stamp=_now())
    if broken == "ical":
        calendar = b"BEGIN:VCALENDAR\r\nthis is not iCalendar\r\n"
    elif broken == "no_start":
        calendar = b"\r\n".join(line for line in calendar.split(b"\r\n")
                                if not line.startswith(b"DTSTART;TZID=Europe/Oslo:"))
    try:
        msg_id, nhn_id = await _send(st, msg_type=codes.AVTALEUTSENDING, pid=pid,
                                     calendar=calendar)
    except EpjError as exc:
        return JSONResponse({"error": exc.code}, status_code=502)
    if not broken and (previous is None or event.sequence > previous.event.sequence):
        st.appointments[event.uid] = Booked(pid, event)  # an old copy sent on purpose is not
    st.sent.append({"msg_id": msg_id, "uid": event.uid, "sequence": event.sequence})
    return JSONResponse({"uid": event.uid, "msg_id": msg_id, "nhn_id": nhn_id})


async def set_mode(request: Request) -> Response:
    st: StandinState = request.app.state.epj
    body = await request.json()
    mode = body.get("cancellations", st.cancellations)
    if mode not in ("accept", "refuse", "reject", "ignore"):
        return JSONResponse({"error": "cancellations: accept | refuse | reject | ignore"},
                            status_code=400)
    st.cancellations = mode
    wishes = body.get("wishes", st.wish_mode)
    if wishes not in ("book", "decline", "ignore"):
        return JSONResponse({"error": "wishes: book | decline | ignore"}, status_code=400)
    st.wish_mode = wishes
    bookings = body.get("bookings", st.booking_mode)
    if bookings not in ("book", "decline", "ignore"):
        return JSONResponse({"error": "bookings: book | decline | ignore"}, status_code=400)
    st.booking_mode = bookings
    return JSONResponse({"ok": True})


async def state(request: Request) -> Response:
    st: StandinState = request.app.state.epj
    return JSONResponse({"sent": st.sent, "receipts": st.receipts, "requests": st.requests,
                         "cancellations": st.cancellations, "wishes": st.wishes,
                         "bookings": st.bookings})


# ---- the inbox ------------------------------------------------------------------------------
async def take(st: StandinState, message: IncomingMessage) -> None:
    her = st.settings.epj.address_her_id
    document = await st.client.get_business_document(message.id)
    if message.is_apprec:
        receipt = parse_apprec(document)
        st.receipts.append({"original_msg_id": receipt.original_msg_id,
                            "status": receipt.status.name,
                            "errors": [e.detail or e.code for e in receipt.errors]})
        await st.client.mark_read(message.id, her)
        return
    try:
        msg = parse_appointment_message(document)
    except EpjError as exc:
        await st.client.post_apprec(message.id, her, AppRecStatus.AVVIST, (AppRecError(
            codes.E_OTHER.v, codes.E_OTHER.dn, codes.E_OTHER.s, exc.code),))
        await st.client.mark_read(message.id, her)
        return
    if msg.msg_type == codes.AVTALEAVBESTILLING.v and st.cancellations == "reject":
        # Refused at once, by the receipt: no SvarAvbestilling follows.
        await st.client.post_apprec(message.id, her, AppRecStatus.AVVIST, (AppRecError(
            codes.E_OTHER.v, codes.E_OTHER.dn, codes.E_OTHER.s, REFUSAL_TEXT),))
        await st.client.mark_read(message.id, her)
        st.requests.append({"msg_id": msg.msg_id, "uid": msg.event.uid, "reason": msg.note,
                            "known": msg.event.uid in st.appointments, "answer": "reject"})
        return
    await st.client.post_apprec(message.id, her, AppRecStatus.OK)
    await st.client.mark_read(message.id, her)
    if msg.msg_type == codes.TIMEONSKEUNGDOM.v:
        await answer_wish(st, msg)
        return
    if msg.msg_type != codes.AVTALEAVBESTILLING.v:
        return
    booked = st.appointments.get(msg.event.uid)
    st.requests.append({"msg_id": msg.msg_id, "uid": msg.event.uid, "reason": msg.note,
                        "known": booked is not None, "answer": st.cancellations})
    if st.cancellations == "ignore" or booked is None:
        return
    ref = ConversationRef(msg.msg_id, msg.msg_id)
    if st.cancellations == "accept":
        booked.event = replace(booked.event, sequence=booked.event.sequence + 1,
                               status=EventStatus.CANCELLED)
        await _send(st, msg_type=codes.AVTALEAVBESTILLING, pid=booked.pid,
                    calendar=render_event(booked.event, stamp=_now()), ref=ref,
                    note="Timen er avbestilt.")
    else:
        await _send(st, msg_type=codes.AVTALEAVBESTILLING, pid=booked.pid,
                    calendar=render_event(booked.event, stamp=_now()), ref=ref,
                    note=REFUSAL_TEXT)


async def answer_wish(st: StandinState, msg: AppointmentMessage) -> None:
    """A youth's ØnskeReserver: book 10:00 on the earliest day (the Avtale, then SvarØnske
    with that time), decline (SvarØnske cancelled, with why), or nothing (``/_dev/mode``)."""
    pid = msg.head.patient_ident or ""
    if msg.event.type_code != WISH_TYPE:
        await answer_booking(st, msg)
        return
    if msg.event.status is EventStatus.CANCELLED:  # ØnskeAvbestill: the youth withdrew it
        ref = msg.head.conversation_ref
        st.wishes.append({"msg_id": msg.msg_id, "withdraws": ref.parent if ref else "",
                          "answer": "withdrawn"})
        return
    st.wishes.append({"msg_id": msg.msg_id, "text": msg.note, "answer": st.wish_mode,
                      "earliest": msg.event.start.astimezone(OSLO).date().isoformat()})
    if st.wish_mode == "ignore":
        return
    ref = ConversationRef(msg.msg_id, msg.msg_id)
    if st.wish_mode == "decline":
        declined = replace(msg.event, status=EventStatus.CANCELLED)
        await _send(st, msg_type=codes.TIMEONSKEUNGDOM, pid=pid, ref=ref, note=DECLINE_TEXT,
                    calendar=render_event(declined, stamp=_now()))
        return
    start = (msg.event.start + timedelta(hours=2)).astimezone(UTC)
    event = CalendarEvent(
        uid=f"{uuid.uuid4()}@epj.demo", sequence=0, start=start,
        end=start + timedelta(minutes=30), status=EventStatus.BOOKED, type_code="SAMTALE",
        summary="Samtale med helsesykepleier", location="Helsestasjon for ungdom, 2. etasje",
        who="Helsesykepleier Hanne", service_category="6", security=Security.NORN_FORANS)
    st.appointments[event.uid] = Booked(pid, event)
    calendar = render_event(event, stamp=_now())
    await _send(st, msg_type=codes.AVTALEUTSENDING, pid=pid, calendar=calendar)
    await _send(st, msg_type=codes.TIMEONSKEUNGDOM, pid=pid, calendar=calendar, ref=ref,
                note="Du har fått time.")


async def answer_booking(st: StandinState, msg: AppointmentMessage) -> None:
    """A proposal the youth accepted: book it as proposed (keeping its UID, so later moves
    name the same appointment), decline it, or never answer (``/_dev/mode {bookings}``)."""
    pid = msg.head.patient_ident or ""
    local = msg.event.start.astimezone(OSLO)
    st.bookings.append({"msg_id": msg.msg_id, "uid": msg.event.uid, "answer": st.booking_mode,
                        "start": local.strftime("%Y-%m-%dT%H:%M"),
                        "minutes": int((msg.event.end - msg.event.start).total_seconds() // 60),
                        "type_code": msg.event.type_code})
    if st.booking_mode == "ignore":
        return
    ref = ConversationRef(msg.msg_id, msg.msg_id)
    if st.booking_mode == "decline":
        declined = replace(msg.event, status=EventStatus.CANCELLED)
        await _send(st, msg_type=codes.TIMEONSKEUNGDOM, pid=pid, ref=ref, note=BOOKING_DECLINED,
                    calendar=render_event(declined, stamp=_now()))
        return
    st.appointments[msg.event.uid] = Booked(pid, msg.event)
    await _send(st, msg_type=codes.TIMEONSKEUNGDOM, pid=pid, ref=ref, note="Timen er bestilt.",
                calendar=render_event(msg.event, stamp=_now()))


async def poll(st: StandinState, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            for message in await st.client.list_incoming(st.settings.epj.address_her_id):
                try:
                    await take(st, message)
                except EpjError as exc:
                    log.warning("epj stand-in: message %s not taken: %s", message.id, exc.code)
        except EpjError as exc:
            log.warning("epj stand-in: poll failed: %s", exc.code)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), st.settings.poll_s)


def _lifespan(st: StandinState) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        s = st.settings
        key = load_client_key(s.key_file)
        async with httpx.AsyncClient(timeout=httpx.Timeout(15.0)) as http:
            helseid = HelseIdClient(HelseIdSettings(
                client_id=s.client_id, token_endpoint=s.nhn_url + "/connect/token",
                audience=s.nhn_url, scope="nhn:msh/api"), key, http)
            st.msh = MshClient(MshSettings(s.nhn_url, "epj-standin"), helseid, key, http)
            stop = asyncio.Event()
            task = asyncio.create_task(poll(st, stop))
            try:
                yield
            finally:
                stop.set()
                await task

    return lifespan


def create_app(settings: StandinSettings) -> Starlette:
    st = StandinState(settings)
    app = Starlette(routes=[
        Route("/_dev/appointments", publish, methods=["POST"]),
        Route("/_dev/mode", set_mode, methods=["POST"]),
        Route("/_dev/state", state, methods=["GET"]),
        Route("/_dev/health", lambda r: JSONResponse({"ok": True}), methods=["GET"]),
    ], lifespan=_lifespan(st))
    app.state.epj = st
    return app
