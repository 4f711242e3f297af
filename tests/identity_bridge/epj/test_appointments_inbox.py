"""Appointments from the EPJ stand-in, through the NHN lookalike, into Redis sealed: all
real processes (Redis, the lookalike, the stand-in), the worker's receipt poll driven here."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from lxml import etree

from devservices.epj.app import REFUSAL_TEXT
from identity_bridge.epj.appointment_record import AppointmentRecord, AppointmentState, cancel_sent
from identity_bridge.epj.appointment_stats import week_of, weekly
from identity_bridge.epj.appointment_store import CANCEL_GROUP, CANCEL_STREAM, AppointmentStore
from identity_bridge.epj.cancel_sender import CancelSender
from identity_bridge.epj.config import load_config
from identity_bridge.epj.helseid import HelseIdClient
from identity_bridge.epj.inbox import AppointmentInbox
from identity_bridge.epj.msh import IncomingMessage, MshClient
from identity_bridge.epj.schemas import NS_BASE64, NS_DIALOG, NS_MSGHEAD
from identity_bridge.epj.worker import OutboxWorker
from identity_bridge.personseal import PersonSealer, parse_person_key
from identity_bridge.web.appointments import AppointmentTexts, view

from .appt_support import ApptWorld, appt_world, synthetic_pid  # noqa: F401 (fixture)
from .conftest import SENDER_UNIT_HER, SHARED_KITH, Keys, set_faults, stored_messages
from .support import redis_dump

PLACE = "Rom 7F3C, helsestasjonen"
SUMMARY = "Samtale om søvn 9A2E"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


class Parts:
    def __init__(self, world: ApptWorld, redis: aioredis.Redis, keys: Keys,
                 http: httpx.AsyncClient) -> None:
        config = load_config(world.worker_config)
        assert config.appointments is not None
        self.world = world
        self.msh = MshClient(config.msh, HelseIdClient(config.helseid, keys.client_key, http),
                             keys.client_key, http)
        self.sealer = PersonSealer(parse_person_key(world.person_key_file.read_bytes()))
        self.store = AppointmentStore(redis, self.sealer, timedelta(days=30))
        self.inbox = AppointmentInbox(self.store, self.msh, test_persons=True)
        self.cancels = CancelSender(
            redis, self.store, self.msh, sender=config.sender,
            receivers={p.address_her_id: p for p in config.receivers.values()},
            consumer="w1", claim_idle_ms=0)
        self.worker = OutboxWorker(redis, config, self.msh, keys.gateway_key, consumer="w1",
                                   inbox=self.inbox, cancels=self.cancels)

    async def receipt_for(self, msg_id: str) -> dict[str, Any]:
        """Poll (our worker, then the stand-in's own loop) until the stand-in holds our AppRec
        for ``msg_id``: bounded rounds, no timed assertion."""
        for _ in range(200):
            await self.worker.poll_receipts()
            for receipt in self.world.epj.state()["receipts"]:
                if receipt["original_msg_id"] == msg_id:
                    return dict(receipt)
            await asyncio.sleep(0.05)
        raise AssertionError(f"no receipt for {msg_id}")


@pytest.fixture
async def parts(appt_world: ApptWorld, redis_client: aioredis.Redis, keys: Keys,  # noqa: F811
                http: httpx.AsyncClient) -> Parts:
    return Parts(appt_world, redis_client, keys, http)


def _publish(parts: Parts, **fields: Any) -> dict[str, Any]:
    body = {"pid": synthetic_pid(), "start": "2027-01-14T10:00:00+01:00", "minutes": 30,
            "type_code": "SAMTALE", "summary": SUMMARY, "location": PLACE,
            "who": "Helsesykepleier Hanne", **fields}
    return parts.world.epj.publish(**body)


async def test_an_appointment_is_stored_sealed_and_answered_ok(parts: Parts,
                                                               redis_client: aioredis.Redis) -> None:
    sent = _publish(parts, youth_only=True)
    receipt = await parts.receipt_for(sent["msg_id"])
    assert receipt == {"original_msg_id": sent["msg_id"], "status": "OK", "errors": []}
    pid = synthetic_pid()
    [record] = await parts.store.list(parts.store.tag(pid))
    assert record.state is AppointmentState.BOOKED
    assert record.start.isoformat() == "2027-01-14T09:00:00+00:00"
    assert (record.location, record.summary, record.youth_only) == (PLACE, SUMMARY, True)
    dump = await redis_dump(redis_client)
    for secret in (pid, PLACE, SUMMARY, "7F3C", sent["uid"], "Hanne"):
        assert secret.encode() not in dump
        assert base64.b64encode(secret.encode()) not in dump
    # Kept until the end plus the retention, not forever.
    key = f"yp:{{{parts.store.tag(pid)}}}:a:{record.aid}"
    expires = await redis_client.expiretime(key)
    assert expires == int((record.end + timedelta(days=30)).timestamp())


async def test_a_resent_message_is_stored_once_and_answered_the_same(parts: Parts) -> None:
    sent = _publish(parts)
    await parts.receipt_for(sent["msg_id"])
    again = await parts.inbox.take(IncomingMessage(sent["nhn_id"], SENDER_UNIT_HER, None, None,
                                                   False), SENDER_UNIT_HER)
    assert again is not None and not again.rejected
    assert len(await parts.store.list(parts.store.tag(synthetic_pid()))) == 1
    receipts = [r for r in parts.world.epj.state()["receipts"]
                if r["original_msg_id"] == sent["msg_id"]]
    for _ in range(100):
        if len(receipts) == 2:
            break
        await asyncio.sleep(0.05)
        receipts = [r for r in parts.world.epj.state()["receipts"]
                    if r["original_msg_id"] == sent["msg_id"]]
    assert [r["status"] for r in receipts] == ["OK", "OK"]


async def test_the_epj_moves_then_cancels_and_an_old_copy_changes_nothing(parts: Parts) -> None:
    first = _publish(parts)
    await parts.receipt_for(first["msg_id"])
    moved = _publish(parts, uid=first["uid"], start="2027-01-15T13:30:00+01:00")
    await parts.receipt_for(moved["msg_id"])
    tag = parts.store.tag(synthetic_pid())
    [record] = await parts.store.list(tag)
    assert (record.sequence, record.start.isoformat()) == (1, "2027-01-15T12:30:00+00:00")
    stale = _publish(parts, uid=first["uid"], sequence=0, start="2027-02-01T08:00:00+01:00")
    assert (await parts.receipt_for(stale["msg_id"]))["status"] == "OK"
    [record] = await parts.store.list(tag)
    assert record.start.isoformat() == "2027-01-15T12:30:00+00:00"
    cancelled = _publish(parts, uid=first["uid"], status="cancelled")
    await parts.receipt_for(cancelled["msg_id"])
    [record] = await parts.store.list(tag)
    assert record.state is AppointmentState.CANCELLED_BY_EPJ
    # The leads' counts: one booked, one cancelled by the EPJ; the moves and the old copy
    # count nothing.
    [row] = await weekly(parts.store.redis, [week_of(record.start)], 8000100, "6")
    assert row == {"week": "2027-W02", "booked": 1, "cancelled_by_youth": 0,
                   "cancelled_by_epj": 1, "noshow": 0}


@pytest.mark.parametrize(("fields", "code"), [
    ({"broken": "ical"}, "epj.ical.malformed"),
    ({"broken": "no_start"}, "epj.ical.missing"),
    ({"pid": "12345678901"}, "epj.appointment.unknown_person"),
])
async def test_bad_appointments_are_rejected_with_a_code_and_not_stored(
        parts: Parts, redis_client: aioredis.Redis, fields: dict[str, Any], code: str) -> None:
    sent = _publish(parts, **fields)
    receipt = await parts.receipt_for(sent["msg_id"])
    assert (receipt["status"], receipt["errors"]) == ("AVVIST", [code])
    assert [k async for k in redis_client.scan_iter("yp:*")] == []


async def test_not_for_the_youth_is_answered_ok_and_never_kept(parts: Parts,
                                                               redis_client: aioredis.Redis) -> None:
    sent = _publish(parts, security="NORN_UNGDOM")
    assert (await parts.receipt_for(sent["msg_id"]))["status"] == "OK"
    assert [k async for k in redis_client.scan_iter("yp:*")] == []


async def test_message_service_down_nothing_is_lost(parts: Parts) -> None:
    sent = _publish(parts)  # in the message service before it goes down
    set_faults(parts.world.nhn, unavailable=1000)
    for _ in range(3):
        assert await parts.worker.poll_receipts() == 0
    set_faults(parts.world.nhn, unavailable=0)
    assert (await parts.receipt_for(sent["msg_id"]))["status"] == "OK"
    assert len(await parts.store.list(parts.store.tag(synthetic_pid()))) == 1


# -- the youth's cancellation, from the queue the web process fills ------------------------
async def _cancel_queued(parts: Parts, redis: aioredis.Redis, reason: str) -> tuple[str, str]:
    """What the web process does on "Send avbestilling" (its own test is the Chromium one)."""
    pid = synthetic_pid()
    tag = parts.store.tag(pid)
    await redis.hset(f"yp:{{{tag}}}", "pid",  # type: ignore[misc]
                     base64.b64encode(parts.sealer.seal(pid, tag)))
    [record] = await parts.store.list(tag)
    msg_id = f"cancel-{record.aid[:8]}"
    await parts.store.put(tag, cancel_sent(record, msg_id, datetime.now(UTC)), keep_ttl=True)
    await parts.store.queue_cancel(tag, record.aid, msg_id, reason)
    return tag, msg_id


def _sender(parts: Parts, _redis: aioredis.Redis) -> CancelSender:
    return parts.cancels


async def _until(parts: Parts, tag: str, state: AppointmentState) -> AppointmentRecord:
    for _ in range(200):
        await parts.worker.poll_receipts()
        [record] = await parts.store.list(tag)
        if record.state is state:
            return record
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {state}: {record.state}")


async def test_a_cancellation_rejected_by_the_receipt_shows_its_text(
        parts: Parts, redis_client: aioredis.Redis) -> None:
    sent = _publish(parts)
    await parts.receipt_for(sent["msg_id"])
    parts.world.epj.set_mode(cancellations="reject")
    tag, msg_id = await _cancel_queued(parts, redis_client, "Syk 4B7D")
    sender = _sender(parts, redis_client)
    await sender.ensure_group()
    assert await sender.step() == 1
    record = await _until(parts, tag, AppointmentState.CANCEL_REFUSED)
    assert REFUSAL_TEXT in record.answer
    [request] = parts.world.epj.state()["requests"]
    assert (request["msg_id"], request["reason"], request["known"]) == (msg_id, "Syk 4B7D", True)
    dump = await redis_dump(redis_client)
    assert b"4B7D" not in dump and synthetic_pid().encode() not in dump


async def test_service_down_the_cancellation_waits_and_is_sent_once(
        parts: Parts, redis_client: aioredis.Redis) -> None:
    sent = _publish(parts)
    await parts.receipt_for(sent["msg_id"])
    parts.world.epj.set_mode(cancellations="ignore")
    tag, msg_id = await _cancel_queued(parts, redis_client, "")
    sender = _sender(parts, redis_client)
    await sender.ensure_group()
    set_faults(parts.world.nhn, unavailable=1000)
    await sender.step()
    pending = await redis_client.xpending(CANCEL_STREAM, CANCEL_GROUP)
    assert pending["pending"] == 1  # not lost: left for the next try
    set_faults(parts.world.nhn, unavailable=0)
    assert await sender.step() == 1  # reclaimed and sent
    assert (await redis_client.xpending(CANCEL_STREAM, CANCEL_GROUP))["pending"] == 0
    assert await redis_client.xlen(CANCEL_STREAM) == 0  # the sealed reason is gone once sent
    for _ in range(100):
        if parts.world.epj.state()["requests"]:
            break
        await asyncio.sleep(0.05)
    assert [r["msg_id"] for r in parts.world.epj.state()["requests"]] == [msg_id]
    # The EPJ never answers: still "avbestilling sendt", with advice after a day.
    [record] = await parts.store.list(tag)
    assert record.state is AppointmentState.CANCEL_SENT
    later = record.updated_at + timedelta(hours=25)
    assert view(record, AppointmentTexts(), "nb", later).waiting_long
    assert not view(record, AppointmentTexts(), "nb", record.updated_at).waiting_long


def _shared_schema() -> etree.XMLSchema:
    """MsgHead + Dialogmelding + Base64Container straight from ../shared/standards/kith (not
    the vendored copy the code uses)."""
    wrapper = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
      <xs:import namespace="{NS_MSGHEAD}" schemaLocation="MsgHead-v1_2.xsd"/>
      <xs:import namespace="{NS_DIALOG}" schemaLocation="dialogmelding-v1.1.xsd"/>
      <xs:import namespace="{NS_BASE64}" schemaLocation="kith-base64.xsd"/>
    </xs:schema>""".encode()
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    doc = etree.fromstring(wrapper, parser, base_url=str(SHARED_KITH / "xsd") + "/")
    return etree.XMLSchema(doc)


async def test_every_message_sent_either_way_validates_against_the_shared_schemas(
        parts: Parts, redis_client: aioredis.Redis) -> None:
    sent = _publish(parts)
    await parts.receipt_for(sent["msg_id"])
    await parts.cancels.ensure_group()
    await _cancel_queued(parts, redis_client, "grunn")
    await parts.cancels.step()
    for _ in range(100):
        if parts.world.epj.state()["requests"]:
            break
        await asyncio.sleep(0.05)
    documents = [base64.b64decode(str(m["document"])) for m in stored_messages(parts.world.nhn)]
    kinds = set()
    schema = _shared_schema()
    for document in documents:
        root = etree.fromstring(document)
        assert schema.validate(root), schema.error_log
        kinds.add(root.find(f"{{{NS_MSGHEAD}}}MsgInfo/{{{NS_MSGHEAD}}}Type").get("V"))  # type: ignore[union-attr]
    assert {"DIALOG_INNBYGGER_AVTALEUTSENDING", "DIALOG_INNBYGGER_AVTALEAVBESTILLING"} <= kinds
