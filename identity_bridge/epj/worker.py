"""The ``epj`` process: delivers sealed journal notes from the Redis outbox to the EPJ.

    REDIS_URL=redis://... python -m identity_bridge.epj.worker --config epj.toml

At-least-once: an entry is acknowledged (XACK) only after the message service has accepted
the message (201) and the status says "sent". A worker killed at any point leaves the entry
pending; another worker reclaims it with XAUTOCLAIM after ``claim_idle_ms`` and sends it
again with the same MsgId, which the receiving side treats as the same message (exactly once
at the receiver). Receipts (AppRec) arrive as incoming messages to our HER-id; the receipt
pump reads them, moves the status forward and marks them read.

Logs carry MsgIds, stream ids and error codes only: never the note, never the FNR.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import httpx
import redis.asyncio as aioredis
from nacl.public import PrivateKey

from chat.server.logs import setup_logging
from chat.store.client import connect
from identity_bridge.personseal import PersonSealer

from .appointment_store import AppointmentStore
from .apprec import original_msg_id_lenient, parse_apprec
from .cancel_sender import CancelSender
from .config import EpjConfig, load_config
from .errors import AuthError, EpjError, HttpStatusError, MessageInvalid, TransportError
from .helseid import HelseIdClient
from .inbox import AppointmentInbox
from .keys import load_client_key, load_gateway_key
from .model import ConversationRef, JournalNote
from .msghead import render_msghead
from .msh import IncomingMessage, MshClient
from .outbox import (
    DEAD_STREAM,
    GROUP,
    INVALID_RECEIPTS_STREAM,
    STREAM,
    Failed,
    GiveUp,
    MarkSent,
    OutboxEntry,
    RetryAfter,
    SendOutcome,
    Sent,
    Status,
    StatusChange,
    decide,
    rank,
    receipt_change,
    status_key,
)
from .sealed import open_sealed, open_split
from .status_store import StatusStore

log = logging.getLogger("identity_bridge.epj.worker")

Sleep = Callable[[float], Awaitable[None]]

class OutboxWorker:
    def __init__(
        self,
        redis: aioredis.Redis,
        config: EpjConfig,
        msh: MshClient,
        gateway_key: PrivateKey,
        *,
        consumer: str,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
        inbox: AppointmentInbox | None = None,
        cancels: CancelSender | None = None,
    ) -> None:
        self._cancels = cancels
        self._redis = redis
        self._inbox = inbox
        self._not_ours: set[str] = set()  # incoming NHN ids no handler here takes
        self._config = config
        self._msh = msh
        self._gateway_key = gateway_key
        self._consumer = consumer
        self._sleep = sleep
        self._clock = clock
        self._now = now
        self.status = StatusStore(redis)

    # ---- the loop -------------------------------------------------------------------------

    async def ensure_group(self) -> None:
        with contextlib.suppress(aioredis.ResponseError):  # BUSYGROUP: it exists
            await self._redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)

    async def run(self, stop: asyncio.Event) -> None:
        await self.ensure_group()
        if self._cancels is not None:
            await self._cancels.ensure_group()
        next_receipt_poll = 0.0
        failures = 0
        while not stop.is_set():
            try:
                await self.step()
                if self._cancels is not None:
                    await self._cancels.step()
                if self._clock() >= next_receipt_poll:
                    await self.poll_receipts()
                    next_receipt_poll = self._clock() + self._config.worker.receipt_poll_s
                failures = 0
            except (aioredis.ConnectionError, aioredis.TimeoutError):
                failures += 1
                log.warning("epj worker: redis unavailable (%d)", failures)
                await self._sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))

    async def step(self) -> int:
        """Reclaim stale entries, then read new ones; returns how many were handled."""
        handled = await self.reclaim()
        # RESP2 shape: [[stream, [(id, fields), ...]]].
        reply = cast(
            list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]],
            await self._redis.xreadgroup(
                GROUP, self._consumer, {STREAM: ">"}, count=10,
                block=self._config.worker.block_ms,
            ),
        )
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                await self._handle_safely(entry_id, fields)
                handled += 1
        return handled

    async def reclaim(self) -> int:
        """Take over entries another consumer left pending too long (it died, maybe -9)."""
        reply = await self._redis.xautoclaim(
            STREAM, GROUP, self._consumer, self._config.worker.claim_idle_ms,
            start_id="0-0", count=10,
        )
        claimed: list[tuple[bytes, dict[bytes, bytes] | None]] = reply[1] if reply else []
        for entry_id, fields in claimed:
            if fields is None:  # trimmed from the stream meanwhile: nothing to deliver
                await self._redis.xack(STREAM, GROUP, entry_id)
                continue
            log.info("epj reclaimed %s", _id(entry_id))
            await self._handle_safely(entry_id, fields)
        return len(claimed)

    async def _handle_safely(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        try:
            await self.handle(entry_id, fields)
        except (aioredis.ConnectionError, aioredis.TimeoutError):
            raise
        except Exception as exc:
            # Unknown failure: leave it pending (it will be reclaimed) and log only the type;
            # an exception's text could quote data.
            log.error("epj entry %s failed: %s", _id(entry_id), type(exc).__name__)

    # ---- one entry ------------------------------------------------------------------------

    async def handle(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        try:
            entry = OutboxEntry.from_fields(fields)
        except EpjError as exc:
            await self._dead_raw(entry_id, fields, exc.code)
            return
        current = await self.status.get(entry.msg_id)
        if current is not None and rank(current) >= rank(Status.SENT):
            await self._redis.xack(STREAM, GROUP, entry_id)  # a duplicate after success
            return
        try:
            document = self._render(entry)
        except EpjError as exc:
            await self._give_up(entry_id, entry, exc.code)
            return
        policy = self._config.worker.retry
        while True:
            attempt = int(await self._redis.hincrby(  # type: ignore[misc]
                status_key(entry.msg_id), "attempts", 1))
            await self._keep_claim(entry_id)
            outcome = await self._send(document)
            decision = decide(outcome, attempt, policy)
            if isinstance(decision, MarkSent):
                await self.status.move(entry.msg_id, StatusChange(Status.SENT),
                                       nhn_id=decision.nhn_id)
                await self._redis.xack(STREAM, GROUP, entry_id)
                return
            if isinstance(decision, GiveUp):
                await self._give_up(entry_id, entry, decision.code)
                return
            assert isinstance(decision, RetryAfter)
            await self._redis.hset(status_key(entry.msg_id),  # type: ignore[misc]
                                   "last_error", decision.code)
            log.info("epj %s attempt %d failed (%s); retry in %.1fs",
                     entry.msg_id, attempt, decision.code, decision.seconds)
            await self._sleep(decision.seconds)

    def _render(self, entry: OutboxEntry) -> bytes:
        receiver = self._config.receiver_for(entry.service_id)
        if receiver is None:
            raise EpjError("no EPJ receiver for the service", code="epj.config.unknown_service")
        if entry.sealed_person:
            note = open_split(entry.sealed, entry.sealed_person, self._gateway_key,
                              msg_id=entry.msg_id, conversation=entry.conversation_id)
        else:
            note = open_sealed(entry.sealed, self._gateway_key)
        ref = None
        if entry.ref_parent and entry.ref_conversation:
            ref = ConversationRef(entry.ref_parent, entry.ref_conversation)
        now = self._now()
        return render_msghead(JournalNote(
            msg_id=entry.msg_id,
            sender=self._config.sender,
            receiver=receiver,
            patient=note.patient,
            nurse=note.nurse,
            subject=note.subject,
            text=note.text,
            generated_at=now,
            note_date=note.note_date,
            conversation_ref=ref,
        ))

    async def _send(self, document: bytes) -> SendOutcome:
        try:
            return Sent(await self._msh.send_message(document))
        except HttpStatusError as exc:
            return Failed(exc.code, transient=False)
        except (TransportError, AuthError, MessageInvalid) as exc:
            # AuthError counts as transient: a fixed key or config should let the queue drain.
            return Failed(exc.code, transient=True)

    async def _keep_claim(self, entry_id: bytes) -> None:
        # Re-claiming to ourselves resets the entry's idle time, so a live worker backing off
        # is not mistaken for a dead one.
        await self._redis.xclaim(STREAM, GROUP, self._consumer, 0, [entry_id], justid=True)

    async def _give_up(self, entry_id: bytes, entry: OutboxEntry, code: str) -> None:
        dead: dict[str, str] = {**entry.to_fields(), "code": code, "entry": _id(entry_id)}
        await self._redis.xadd(DEAD_STREAM, dead)  # type: ignore[arg-type]
        await self.status.move(entry.msg_id, StatusChange(Status.DEAD, code))
        await self._redis.xack(STREAM, GROUP, entry_id)
        log.warning("epj %s dead: %s", entry.msg_id, code)

    async def _dead_raw(self, entry_id: bytes, fields: dict[bytes, bytes], code: str) -> None:
        dead: dict[bytes, bytes] = {**fields, b"code": code.encode(), b"entry": entry_id}
        await self._redis.xadd(DEAD_STREAM, dead)  # type: ignore[arg-type]
        await self._redis.xack(STREAM, GROUP, entry_id)
        log.warning("epj entry %s dead: %s", _id(entry_id), code)

    # ---- receipts -------------------------------------------------------------------------

    async def poll_receipts(self) -> int:
        """Read AppRecs addressed to us; returns how many were taken."""
        her_id = self._config.sender.address_her_id
        try:
            incoming = await self._msh.list_incoming(her_id)
        except EpjError as exc:
            log.warning("epj receipt poll failed: %s", exc.code)
            return 0
        taken = 0
        for message in incoming:
            if not message.is_apprec:
                taken += await self._take_other(message, her_id)
                continue
            try:
                await self._take_receipt(message, her_id)
                taken += 1
            except EpjError as exc:
                log.warning("epj receipt %s not taken: %s", message.id, exc.code)
        return taken

    async def _take_other(self, message: IncomingMessage, her_id: int) -> int:
        """Appointment messages go to the inbox; other documents are left unread."""
        if self._inbox is None or message.id in self._not_ours:
            return 0
        try:
            answer = await self._inbox.take(message, her_id)
        except EpjError as exc:
            log.warning("epj incoming %s not taken: %s", message.id, exc.code)
            return 0
        if answer is None:
            if len(self._not_ours) > 10_000:  # a bound, not a cache: re-fetching is harmless
                self._not_ours.clear()
            self._not_ours.add(message.id)
            return 0
        return 1

    async def _take_receipt(self, message: IncomingMessage, her_id: int) -> None:
        document = await self._msh.get_business_document(message.id)
        try:
            receipt = parse_apprec(document)
        except EpjError as exc:
            original = original_msg_id_lenient(document)
            if original and await self.status.get(original) is not None:
                await self.status.move(original, StatusChange(
                    Status.RECEIPT_INVALID, exc.code, "the receipt could not be read"))
            else:
                await self._redis.xadd(INVALID_RECEIPTS_STREAM,
                                       {"nhn_id": message.id, "code": exc.code})
                log.warning("epj receipt %s unreadable: %s", message.id, exc.code)
        else:
            if await self.status.get(receipt.original_msg_id) is None:
                if self._cancels is not None and await self._cancels.receipt(receipt):
                    await self._msh.mark_read(message.id, her_id)
                    return
                await self._redis.xadd(INVALID_RECEIPTS_STREAM, {
                    "nhn_id": message.id, "code": "epj.apprec.unknown_original"})
            else:
                await self.status.move(receipt.original_msg_id, receipt_change(receipt),
                                       receipt_id=receipt.id)
        await self._msh.mark_read(message.id, her_id)


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


def _id(entry_id: bytes | str) -> str:
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


# ---- process entry point ------------------------------------------------------------------


async def serve(config: EpjConfig, redis_url: str, consumer: str, stop: asyncio.Event) -> None:
    key = load_client_key(config.helseid_key_file)
    gateway_key = load_gateway_key(config.worker.gateway_key_file)
    redis = connect(redis_url, decode_responses=False)
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as http:
        helseid = HelseIdClient(config.helseid, key, http)
        msh = MshClient(config.msh, helseid, key, http)
        inbox, cancels = None, None
        if config.appointments is not None:
            store = AppointmentStore(redis, PersonSealer(config.appointments.person_key),
                                     timedelta(days=config.appointments.retention_days))
            inbox = AppointmentInbox(store, msh,
                                     test_persons=config.appointments.test_persons)
            cancels = CancelSender(
                redis, store, msh, sender=config.sender,
                receivers={p.address_her_id: p for p in config.receivers.values()},
                consumer=consumer, claim_idle_ms=config.worker.claim_idle_ms)
        worker = OutboxWorker(redis, config, msh, gateway_key, consumer=consumer, inbox=inbox,
                              cancels=cancels)
        try:
            await worker.run(stop)
        finally:
            await redis.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m identity_bridge.epj.worker")
    parser.add_argument("--config", type=Path, default=Path(os.environ.get("EPJ_CONFIG",
                                                                          "epj.toml")))
    parser.add_argument("--consumer", default=f"{socket.gethostname()}-{os.getpid()}")
    args = parser.parse_args(argv)
    setup_logging()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        config = load_config(args.config)
    except EpjError as exc:
        log.error("epj worker cannot start: %s (%s)", exc.message, exc.code)
        return 2

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(config, redis_url, args.consumer, stop)

    try:
        asyncio.run(_main())
    except EpjError as exc:
        log.error("epj worker stopped: %s (%s)", exc.message, exc.code)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
