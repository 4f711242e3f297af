"""The youth's cancellations, wishes and bookings, from ``appt:outbox`` to the EPJ as
``AvbestillAvtale``, ``ØnskeReserver`` (``TIMEONSKEUNGDOM``, entries with ``kind: wish``),
``ØnskeAvbestill`` (``kind: wish_withdraw``: the wish's VEVENT with ``STATUS:CANCELLED``) and
the booking of a nurse's proposal the youth accepted (``kind: book``: an ``ØnskeReserver``
with the proposed time exactly, under the proposal's UID).

The web process has already moved the record to ``cancel_sent`` and queued ``{msg_id, tag,
aid, reason}`` (the reason sealed). The worker opens the record and the person's pid (both
under the person key), builds a ``DIALOG_INNBYGGER_AVTALEAVBESTILLING`` with the VEVENT
``STATUS:CANCELLED`` (schema-validated before it leaves), remembers which appointment the
MsgId is about, sends it, and acknowledges the entry. The EPJ's AppRec (Avvist: the record
becomes ``cancel_refused`` with its text) and its ``SvarAvbestilling`` come back through the
inbox (inbox.py).

At least once, exactly once at the receiver by MsgId, like the journal outbox: an entry is
acknowledged only after the message service took the message; a transient failure leaves it
pending, and ``XAUTOCLAIM`` retries it after ``claim_idle_ms`` (in this worker or another).
A failure that cannot get better (the record or the person gone, a 4xx, a schema-invalid
build) ends the request as refused, so the youth is not left waiting.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import cast

import redis.asyncio as aioredis

from . import codes
from .appointment_record import (
    AppointmentRecord,
    AppointmentState,
    booking_answered,
    cancel_answered,
)
from .appointment_store import CANCEL_GROUP, CANCEL_STREAM, AppointmentStore, WishStore
from .appointments import build_appointment_message
from .errors import AuthError, EpjError, TransportError
from .ical import EventStatus, render_event
from .model import AppRec, AppRecStatus, ConversationRef, Party, Patient
from .msh import MshClient
from .wish import refused

log = logging.getLogger("identity_bridge.epj.cancel")

Entries = list[tuple[bytes, dict[bytes, bytes]]]


def _f(fields: dict[bytes, bytes], name: str) -> str:
    return fields.get(name.encode(), b"").decode()


class CancelSender:
    def __init__(self, redis: aioredis.Redis, store: AppointmentStore, msh: MshClient, *,
                 sender: Party, receivers: dict[int, Party], consumer: str, claim_idle_ms: int,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._redis = redis
        self.store = store
        self._msh = msh
        self._sender = sender
        self._receivers = receivers  # EPJ HER-id -> its party (names from the config)
        self._consumer = consumer
        self._claim_idle_ms = claim_idle_ms
        self._now = now

    async def ensure_group(self) -> None:
        with contextlib.suppress(aioredis.ResponseError):  # BUSYGROUP: it exists
            await self._redis.xgroup_create(CANCEL_STREAM, CANCEL_GROUP, id="0", mkstream=True)

    async def step(self) -> int:
        """Reclaimed and new entries, without blocking (the journal stream blocks)."""
        reply = await self._redis.xautoclaim(CANCEL_STREAM, CANCEL_GROUP, self._consumer,
                                             self._claim_idle_ms, start_id="0-0", count=10)
        entries = cast(Entries, [e for e in (reply[1] if reply else []) if e[1] is not None])
        fresh = cast(list[tuple[bytes, Entries]], await self._redis.xreadgroup(
            CANCEL_GROUP, self._consumer, {CANCEL_STREAM: ">"}, count=10))
        for _stream, items in fresh or []:
            entries += items
        for entry_id, fields in entries:
            await self._handle(entry_id, fields)
        return len(entries)

    async def _handle(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        msg_id, tag, aid = _f(fields, "msg_id"), _f(fields, "tag"), _f(fields, "aid")
        kind = _f(fields, "kind")
        if aid.startswith("w:"):
            await self._wish(entry_id, msg_id, tag, aid.removeprefix("w:"), _f(fields, "reason"),
                             withdraw=kind == "wish_withdraw")
            return
        record = await self.store.get(tag, aid) if tag and aid else None
        if kind == "book":
            await self._book(entry_id, msg_id, tag, record)
            return
        pid = await self.store.person_ident(tag) if record is not None else None
        if record is None or pid is None or record.cancel_msg_id != msg_id:
            log.warning("cancellation %s dropped: the appointment or the person is gone", msg_id)
            await self._done(entry_id)
            return
        try:
            reason = self.store.open_reason(msg_id, _f(fields, "reason"))
            document = self._document(record, msg_id, pid, reason)
            await self.store.remember_request(msg_id, tag, aid)
            await self._msh.send_message(document)
        except (TransportError, AuthError) as exc:
            log.info("cancellation %s not sent yet: %s", msg_id, exc.code)
            return  # pending: reclaimed and tried again
        except (EpjError, ValueError) as exc:
            code = exc.code if isinstance(exc, EpjError) else "epj.payload.invalid"
            log.warning("cancellation %s cannot be sent: %s", msg_id, code)
            await self._end(tag, record, msg_id, "")
        else:
            log.info("cancellation %s sent", msg_id)
        await self._done(entry_id)

    async def _done(self, entry_id: bytes) -> None:
        """Acknowledged and deleted: the entry holds a sealed reason or wish, which should not
        outlive what it is about (the stream keeps nothing once it is sent)."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.xack(CANCEL_STREAM, CANCEL_GROUP, entry_id)
        pipe.xdel(CANCEL_STREAM, entry_id)
        await pipe.execute()

    async def _book(self, entry_id: bytes, msg_id: str, tag: str,
                    record: AppointmentRecord | None) -> None:
        """The youth accepted a proposal: ``ØnskeReserver`` for exactly that time, under the
        proposal's UID (the EPJ keeps it for the appointment). The same rules as a
        cancellation; what cannot be sent ends the booking as refused."""
        pid = await self.store.person_ident(tag) if record is not None else None
        if (record is None or pid is None or record.cancel_msg_id != msg_id
                or record.state is not AppointmentState.BOOKING_SENT):
            log.warning("booking %s dropped: the proposal or the person is gone", msg_id)
            await self._done(entry_id)
            return
        try:
            document = build_appointment_message(
                msg_type=codes.TIMEONSKEUNGDOM, msg_id=msg_id,
                generated_at=self._now().astimezone(), sender=self._sender,
                receiver=self._receivers.get(record.epj_her) or Party("EPJ", record.epj_her),
                patient=Patient(pid), calendar=render_event(record.event(), stamp=self._now(),
                                                            method="REQUEST"),
                subject="Timebestilling")
            await self.store.remember_request(msg_id, tag, record.aid)
            await self._msh.send_message(document)
        except (TransportError, AuthError) as exc:
            log.info("booking %s not sent yet: %s", msg_id, exc.code)
            return
        except (EpjError, ValueError) as exc:
            code = exc.code if isinstance(exc, EpjError) else "epj.payload.invalid"
            log.warning("booking %s cannot be sent: %s", msg_id, code)
            changed = booking_answered(record, msg_id, None, "", self._now())
            if changed is not None:
                await self.store.put(tag, changed, keep_ttl=True)
        else:
            log.info("booking %s sent", msg_id)
        await self._done(entry_id)

    async def _wish(self, entry_id: bytes, msg_id: str, tag: str, wid: str, sealed: str, *,
                    withdraw: bool = False) -> None:
        """A wish (``ØnskeReserver``) or its withdrawal (``ØnskeAvbestill``): the same
        at-least-once rules as a cancellation."""
        wishes = WishStore(self.store)
        wish = await wishes.get(tag, wid)
        pid = await self.store.person_ident(tag) if wish is not None else None
        if wish is None or pid is None or wish.msg_id != msg_id:
            log.warning("wish %s dropped: the wish or the person is gone", msg_id)
            await self._done(entry_id)
            return
        try:
            document = build_appointment_message(
                msg_type=codes.TIMEONSKEUNGDOM, msg_id=msg_id,
                generated_at=self._now().astimezone(), sender=self._sender,
                receiver=self._receivers.get(wish.epj_her) or Party("EPJ", wish.epj_her),
                patient=Patient(pid),
                calendar=render_event(wish.event(withdrawn=withdraw), stamp=self._now(),
                                      method="CANCEL" if withdraw else "REQUEST"),
                note=self.store.open_reason(msg_id, sealed),
                subject="Trekk timeønske" if withdraw else "Timeønske",
                conversation_ref=(ConversationRef(wish.wish_msg_id, wish.wish_msg_id)
                                  if withdraw and wish.wish_msg_id else None))
            await self.store.remember_request(msg_id, tag, f"w:{wid}")
            await self._msh.send_message(document)
        except (TransportError, AuthError) as exc:
            log.info("wish %s not sent yet: %s", msg_id, exc.code)
            return
        except (EpjError, ValueError):
            # A withdrawal that cannot be sent leaves the wish withdrawn here: the EPJ's
            # answer to the wish itself, if one comes, changes nothing.
            changed = None if withdraw else refused(wish, msg_id, "")
            if changed is not None:
                await wishes.put(tag, changed)
        await self._done(entry_id)

    def _document(self, record: AppointmentRecord, msg_id: str, pid: str, reason: str) -> bytes:
        event = replace(record.event(), status=EventStatus.CANCELLED)
        receiver = self._receivers.get(record.epj_her) or Party("EPJ", record.epj_her)
        return build_appointment_message(
            msg_type=codes.AVTALEAVBESTILLING, msg_id=msg_id,
            generated_at=self._now().astimezone(), sender=self._sender, receiver=receiver,
            patient=Patient(pid), calendar=render_event(event, stamp=self._now(), method="CANCEL"),
            note=reason, subject="Avbestilling")

    async def _end(self, tag: str, record: AppointmentRecord, msg_id: str, text: str) -> None:
        changed = cancel_answered(record, msg_id, False, text, self._now())
        if changed is not None:
            await self.store.put(tag, changed, keep_ttl=True)

    async def receipt(self, receipt: AppRec) -> bool:
        """An AppRec for one of our cancellation requests: Avvist ends it as refused (with the
        EPJ's text); OK waits for the SvarAvbestilling. False if it is not about one."""
        target = await self.store.request_target(receipt.original_msg_id)
        if target is None:
            return False
        if receipt.status is AppRecStatus.AVVIST:
            tag, aid = target
            if aid.startswith("w:"):
                wishes = WishStore(self.store)
                wish = await wishes.get(tag, aid.removeprefix("w:"))
                changed = refused(wish, receipt.original_msg_id, receipt.text()) if wish else None
                if changed is not None:
                    await wishes.put(tag, changed)
                return True
            record = await self.store.get(tag, aid)
            if record is not None and record.state is AppointmentState.BOOKING_SENT:
                booked = booking_answered(record, receipt.original_msg_id, None,
                                          receipt.text(), self._now())
                if booked is not None:
                    await self.store.put(tag, booked, keep_ttl=True)
            elif record is not None:
                await self._end(tag, record, receipt.original_msg_id, receipt.text())
        return True

