"""The outbox worker against real Redis and the lookalike as a real subprocess."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime

import httpx
import pytest
import redis.asyncio as aioredis
from nacl.public import PrivateKey

from devservices.nhn.process import NhnProcess
from identity_bridge.epj.config import EpjConfig
from identity_bridge.epj.helseid import HelseIdClient
from identity_bridge.epj.model import JournalNote
from identity_bridge.epj.msghead import parse_msghead, render_msghead
from identity_bridge.epj.msh import MshClient
from identity_bridge.epj.outbox import (
    DEAD_STREAM,
    INVALID_RECEIPTS_STREAM,
    STATUS_CHANNEL,
    STREAM,
    Status,
    status_key,
)
from identity_bridge.epj.producer import enqueue_note
from identity_bridge.epj.sealed import seal
from identity_bridge.epj.worker import OutboxWorker, Sleep

from .conftest import FNR, MARKER, Keys, sample_note, set_faults, stored_messages
from .support import drive, redis_dump


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def _no_sleep(_seconds: float) -> None:
    return None


def make_worker(redis: aioredis.Redis, config: EpjConfig, keys: Keys, http: httpx.AsyncClient,
                *, sleep: Sleep = _no_sleep, consumer: str = "w1") -> OutboxWorker:
    helseid = HelseIdClient(config.helseid, keys.client_key, http)
    msh = MshClient(config.msh, helseid, keys.client_key, http)
    return OutboxWorker(redis, config, msh, keys.gateway_key, consumer=consumer, sleep=sleep)


async def _enqueue(redis: aioredis.Redis, keys: Keys, *, service: str = "skole-1",
                   conversation: str = "conv-1", text: str | None = None) -> str:
    note = sample_note() if text is None else sample_note(text)
    return await enqueue_note(redis, sealed=seal(note, keys.gateway_key.public_key),
                              conversation_id=conversation, service_id=service, nurse_id="n-7")


async def test_note_is_delivered_accepted_and_nothing_leaks(
    redis_client: aioredis.Redis, config: EpjConfig, keys: Keys, nhn: NhnProcess,
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(STATUS_CHANNEL)
    worker = make_worker(redis_client, config, keys, http)
    await worker.ensure_group()

    first = await _enqueue(redis_client, keys)
    assert await drive(worker, first, {Status.ACCEPTED}) is Status.ACCEPTED
    second = await _enqueue(redis_client, keys)
    assert await drive(worker, second, {Status.ACCEPTED}) is Status.ACCEPTED

    stored = {m["msg_id"]: m for m in stored_messages(nhn)}
    assert set(stored) == {first, second}
    doc = parse_msghead(base64.b64decode(str(stored[second]["document"])))
    assert doc.patient_ident == FNR  # the EPJ gets the person and the note ...
    assert MARKER in (doc.notes[0].text or "")
    assert doc.conversation_ref is not None  # ... threaded after the first note
    assert (doc.conversation_ref.parent, doc.conversation_ref.conversation) == (first, first)
    assert parse_msghead(base64.b64decode(str(stored[first]["document"]))).conversation_ref \
        is None

    status = await redis_client.hgetall(status_key(first))  # type: ignore[misc]
    assert status[b"status"] == b"accepted" and status[b"attempts"] == b"1"
    assert status[b"nhn_id"] == str(stored[first]["nhn_id"]).encode()
    assert await redis_client.xpending(STREAM, "epj") == {
        "pending": 0, "min": None, "max": None, "consumers": []}

    events: list[bytes] = []
    for _ in range(100):  # bounded read: the subscribe confirmation comes first
        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if msg is not None:
            events.append(msg["data"])
            last = json.loads(msg["data"])
            if (last["msg_id"], last["status"]) == (second, "accepted"):
                break
    await pubsub.aclose()
    seen = [json.loads(e)["status"] for e in events if json.loads(e)["msg_id"] == first]
    assert seen == ["queued", "sent", "accepted"]

    # ... but Redis, the live channel and the logs never do.
    everything = await redis_dump(redis_client) + b"\n".join(events) + caplog.text.encode()
    assert everything  # the scan saw something
    assert MARKER.encode() not in everything
    assert FNR.encode() not in everything
    assert "Samtale om" not in caplog.text


async def test_unknown_receiver_is_rejected_with_the_receipt_text(
    redis_client: aioredis.Redis, config: EpjConfig, keys: Keys, nhn: NhnProcess,
    http: httpx.AsyncClient,
) -> None:
    worker = make_worker(redis_client, config, keys, http)
    await worker.ensure_group()
    msg_id = await _enqueue(redis_client, keys, service="ukjent")
    assert await drive(worker, msg_id, {Status.REJECTED, Status.ACCEPTED}) is Status.REJECTED
    status = await redis_client.hgetall(status_key(msg_id))  # type: ignore[misc]
    assert status[b"code"] == b"epj.apprec.avvist"
    assert status[b"text"].decode().startswith("E21 Mottaker finnes ikke")


async def test_malformed_receipt_gives_a_clear_status(
    redis_client: aioredis.Redis, config: EpjConfig, keys: Keys, nhn: NhnProcess,
    http: httpx.AsyncClient,
) -> None:
    set_faults(nhn, next_receipt="malformed")
    worker = make_worker(redis_client, config, keys, http)
    await worker.ensure_group()
    msg_id = await _enqueue(redis_client, keys)
    final = await drive(worker, msg_id, {Status.RECEIPT_INVALID, Status.ACCEPTED})
    assert final is Status.RECEIPT_INVALID
    status = await redis_client.hgetall(status_key(msg_id))  # type: ignore[misc]
    assert status[b"code"] == b"epj.xml.schema_invalid"


async def test_unreadable_receipt_is_recorded_and_the_worker_goes_on(
    redis_client: aioredis.Redis, config: EpjConfig, keys: Keys, nhn: NhnProcess,
    http: httpx.AsyncClient,
) -> None:
    set_faults(nhn, next_receipt="garbage")
    worker = make_worker(redis_client, config, keys, http)
    await worker.ensure_group()
    broken = await _enqueue(redis_client, keys)
    assert await drive(worker, broken, {Status.SENT}) is Status.SENT
    await worker.poll_receipts()
    invalid = await redis_client.xrange(INVALID_RECEIPTS_STREAM)
    assert [f[b"code"] for _, f in invalid] == [b"epj.xml.malformed"]
    # The receipt was marked read, the message keeps a truthful "sent", the next one works.
    assert await worker.poll_receipts() == 0
    assert await worker.status.get(broken) is Status.SENT
    ok = await _enqueue(redis_client, keys)
    assert await drive(worker, ok, {Status.ACCEPTED}) is Status.ACCEPTED


async def test_service_down_for_a_while_then_delivered(
    redis_client: aioredis.Redis, config: EpjConfig, keys: Keys, nhn: NhnProcess,
    http: httpx.AsyncClient,
) -> None:
    nhn.stop()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # down for two attempts, back before the third
            await asyncio.to_thread(nhn.start)

    worker = make_worker(redis_client, config, keys, http, sleep=sleep)
    await worker.ensure_group()
    msg_id = await _enqueue(redis_client, keys)
    assert await drive(worker, msg_id, {Status.ACCEPTED, Status.DEAD}) is Status.ACCEPTED
    assert waits == [0.5, 1.0]  # exponential backoff from retry_base_s
    status = await redis_client.hgetall(status_key(msg_id))  # type: ignore[misc]
    assert status[b"attempts"] == b"3"
    assert status[b"last_error"] == b"epj.transport.unavailable"
    assert [m["msg_id"] for m in stored_messages(nhn)] == [msg_id]


async def test_retries_exhausted_go_to_the_dead_letter_stream(
    redis_client: aioredis.Redis, config: EpjConfig, keys: Keys, nhn: NhnProcess,
    http: httpx.AsyncClient,
) -> None:
    set_faults(nhn, unavailable=100)  # 503 on every API call
    config = replace(config, worker=replace(config.worker, retry=replace(
        config.worker.retry, max_attempts=3)))
    worker = make_worker(redis_client, config, keys, http)
    await worker.ensure_group()
    msg_id = await _enqueue(redis_client, keys)
    assert await drive(worker, msg_id, {Status.DEAD}) is Status.DEAD
    dead = await redis_client.xrange(DEAD_STREAM)
    assert len(dead) == 1
    fields = dead[0][1]
    assert fields[b"msg_id"] == msg_id.encode()
    assert fields[b"code"] == b"epj.outbox.retries_exhausted"
    assert fields[b"sealed"]  # kept sealed, so it can be replayed once the cause is fixed
    assert await redis_client.hget(status_key(msg_id), "attempts") == b"3"  # type: ignore[misc]
    assert stored_messages(nhn) == []


async def test_unopenable_seal_and_broken_entries_are_dead_not_crashes(
    redis_client: aioredis.Redis, config: EpjConfig, keys: Keys, nhn: NhnProcess,
    http: httpx.AsyncClient,
) -> None:
    worker = make_worker(redis_client, config, keys, http)
    await worker.ensure_group()
    wrong = seal(sample_note(), PrivateKey.generate().public_key)
    msg_id = await enqueue_note(redis_client, sealed=wrong, conversation_id="c",
                                service_id="skole-1", nurse_id="n")
    await redis_client.xadd(STREAM, {"msg_id": "nonsense"})
    no_service = await _enqueue(redis_client, keys, service="no-such-service")
    assert await drive(worker, msg_id, {Status.DEAD}) is Status.DEAD
    assert await drive(worker, no_service, {Status.DEAD}) is Status.DEAD
    codes = sorted(f[b"code"] for _, f in await redis_client.xrange(DEAD_STREAM))
    assert codes == [b"epj.config.unknown_service", b"epj.outbox.bad_entry",
                     b"epj.seal.open_failed"]
    assert stored_messages(nhn) == []


async def test_a_duplicate_entry_after_success_is_not_sent_again(
    redis_client: aioredis.Redis, config: EpjConfig, keys: Keys, nhn: NhnProcess,
    http: httpx.AsyncClient,
) -> None:
    worker = make_worker(redis_client, config, keys, http)
    await worker.ensure_group()
    msg_id = await _enqueue(redis_client, keys)
    assert await drive(worker, msg_id, {Status.ACCEPTED}) is Status.ACCEPTED
    (_, fields), = await redis_client.xrange(STREAM)
    await redis_client.xadd(STREAM, fields)  # at-least-once upstream: the same note again
    await worker.step()
    [stored] = stored_messages(nhn)
    assert stored["deliveries"] == 1
    assert await worker.status.get(msg_id) is Status.ACCEPTED



async def test_lookalike_is_idempotent_by_msgid_across_a_restart(
    config: EpjConfig, keys: Keys, nhn: NhnProcess, http: httpx.AsyncClient,
) -> None:
    note = sample_note()
    document = render_msghead(JournalNote(
        msg_id=str(uuid.uuid4()), sender=config.sender,
        receiver=config.receivers["skole-1"], patient=note.patient, nurse=note.nurse,
        subject=note.subject, text=note.text, generated_at=datetime.now().astimezone(),
        note_date=note.note_date))
    msh = MshClient(config.msh, HelseIdClient(config.helseid, keys.client_key, http),
                    keys.client_key, http)
    first = await msh.send_message(document)
    await asyncio.to_thread(nhn.restart)  # the store is on disk, the nonce cache is not
    assert await msh.send_message(document) == first
    [stored] = stored_messages(nhn)
    assert stored["deliveries"] == 2
    [receipt] = await msh.list_incoming(config.sender.address_her_id)
    assert receipt.is_apprec  # one receipt, not one per delivery
