"""Incoming appointment messages from the EPJ: fetch, validate, store sealed, answer AppRec.

Run by the ``epj`` worker's receipt poll for every incoming message that is not a receipt.
Each message is answered exactly once per MsgId: what we answered is remembered
(``epj:in:{msgid}``) before the receipt goes out, so a resend (a new NHN id, the same MsgId)
gets the same answer and is stored once; a worker dying half-way leaves the message unread
and the next poll takes it again with the same result.

| input | answer | code (logged, in the AppRec's ``OT``) |
|---|---|---|
| not XML, wrong root, schema-invalid | Avvist ``T02`` | ``epj.xml.*`` |
| a broken or incomplete iCalendar part | Avvist ``X99`` | ``epj.ical.*``, ``epj.appointment.no_calendar`` |
| no valid fødselsnummer or D-number for the patient | Avvist ``X99`` | ``epj.appointment.unknown_person`` |
| marked ``NORN_UNGDOM`` (not for the youth) | OK, not stored | ``epj.appointment.not_for_youth`` |
| an answer to a cancellation we do not know | Avvist ``X99`` | ``epj.appointment.unknown_request`` |
| anything else | OK | |

Logs carry NHN ids, MsgIds and codes; never the person, never the appointment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from identity_bridge import fnr

from . import codes
from .appointment_record import booking_answered, cancel_answered, from_event, merge
from .appointment_stats import count
from .appointment_store import AppointmentStore, WishStore
from .appointments import APPOINTMENT_TYPES, AppointmentMessage, read_appointment
from .errors import AppointmentInvalid, MessageInvalid, SchemaInvalid, XmlMalformed, XmlWrongRoot
from .ical import EventStatus, Security
from .model import AppRecError, AppRecStatus
from .msghead import read_msghead
from .msh import IncomingMessage, MshClient
from .schemas import MSGHEAD_ROOT, load, validate_msghead
from .wish import answered

log = logging.getLogger("identity_bridge.epj.inbox")

OK = "ok"
NOT_FOR_YOUTH = "epj.appointment.not_for_youth"
UNKNOWN_PERSON = "epj.appointment.unknown_person"
UNKNOWN_REQUEST = "epj.appointment.unknown_request"


@dataclass(frozen=True, slots=True)
class Answer:
    """What we answer one message: OK (``code`` empty or informative) or Avvist."""

    code: str = OK
    rejected: bool = False

    def apprec(self) -> tuple[AppRecStatus, tuple[AppRecError, ...]]:
        if not self.rejected:
            return AppRecStatus.OK, ()
        error = codes.E_XML_INVALID if self.code.startswith("epj.xml.") else codes.E_OTHER
        return AppRecStatus.AVVIST, (AppRecError(error.v, error.dn, error.s, self.code),)

    def to_text(self) -> str:
        return ("rejected " if self.rejected else "") + self.code

    @classmethod
    def from_text(cls, raw: str) -> Answer:
        rejected = raw.startswith("rejected ")
        return cls(raw.removeprefix("rejected "), rejected)


class AppointmentInbox:
    def __init__(self, store: AppointmentStore, msh: MshClient, *,
                 test_persons: bool = False,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self._test_persons = test_persons  # synthetic numbers (+80 on the month) accepted
        self._msh = msh
        self._now = now

    async def take(self, message: IncomingMessage, her_id: int) -> Answer | None:
        """Handle one incoming non-receipt message; None if it is not ours to answer (left
        unread, as before)."""
        document = await self._msh.get_business_document(message.id)
        try:
            root = load(document, MSGHEAD_ROOT)
            validate_msghead(root)
        except (XmlMalformed, XmlWrongRoot, SchemaInvalid) as exc:
            # No MsgId we can trust: answered by the service's message id, never stored.
            return await self._answer(message, her_id, Answer(exc.code, rejected=True), None)
        try:
            head = read_msghead(root)
        except MessageInvalid as exc:
            return await self._answer(message, her_id, Answer(exc.code, rejected=True), None)
        if head.msg_type not in APPOINTMENT_TYPES:
            return None  # a message type this inbox does not handle: left for others
        if (seen := await self.store.seen(head.msg_id)) is not None:
            return await self._answer(message, her_id, Answer.from_text(seen), None)
        try:
            msg = read_appointment(root)
        except (AppointmentInvalid, MessageInvalid) as exc:
            answer = Answer(exc.code, rejected=True)
        else:
            answer = await self._apply(msg, message.sender_her_id)
        return await self._answer(message, her_id, answer, head.msg_id)

    async def _apply(self, msg: AppointmentMessage, sender_her: int | None) -> Answer:
        pid = msg.head.patient_ident or ""
        epj_her = msg.head.sender_her_id or sender_her or 0
        if msg.msg_type == codes.AVTALEAVBESTILLING.v:
            return await self._cancel_answer(msg)
        if msg.msg_type == codes.TIMEONSKEUNGDOM.v:
            return await self._wish_answer(msg)
        if msg.msg_type != codes.AVTALEUTSENDING.v:
            return Answer("epj.appointment.wrong_type", rejected=True)
        if not fnr.is_valid(pid, allow_synthetic=self._test_persons):
            return Answer(UNKNOWN_PERSON, rejected=True)
        tag = self.store.tag(pid)
        if msg.event.security is Security.NORN_UNGDOM:
            return Answer(NOT_FOR_YOUTH)  # received, but never shown to the youth: not kept
        now = self._now()
        aid = self.store.appointment_id(epj_her, msg.event.uid)
        incoming = from_event(aid, epj_her, msg.event, now)
        previous = await self.store.get(tag, aid)
        merged = merge(previous, incoming)
        if merged is not None:
            await self.store.put(tag, merged)
            await count(self.store.redis, previous, merged)
        return Answer()

    async def _cancel_answer(self, msg: AppointmentMessage) -> Answer:
        ref = msg.head.conversation_ref
        target = await self.store.request_target(ref.parent) if ref is not None else None
        if ref is None or target is None:
            return Answer(UNKNOWN_REQUEST, rejected=True)
        tag, aid = target
        record = await self.store.get(tag, aid) if not aid.startswith("w:") else None
        if record is None:
            return Answer(UNKNOWN_REQUEST, rejected=True)
        accepted = msg.event.status is EventStatus.CANCELLED
        changed = cancel_answered(record, ref.parent, accepted, msg.note, self._now())
        if changed is not None:
            await self.store.put(tag, changed)
            await count(self.store.redis, record, changed)
        return Answer()

    async def _wish_answer(self, msg: AppointmentMessage) -> Answer:
        """The EPJ's SvarØnske: a time (the appointment itself arrives as an Avtale too) or
        no (its Notat says why)."""
        ref = msg.head.conversation_ref
        target = await self.store.request_target(ref.parent) if ref is not None else None
        if ref is None or target is None:
            return Answer(UNKNOWN_REQUEST, rejected=True)
        if not target[1].startswith("w:"):
            return await self._booking_answer(msg, ref.parent, *target)
        tag, wid = target[0], target[1].removeprefix("w:")
        wishes = WishStore(self.store)
        wish = await wishes.get(tag, wid)
        if wish is None:
            return Answer(UNKNOWN_REQUEST, rejected=True)
        changed = answered(wish, ref.parent, msg.event, msg.note)
        if changed is not None:
            await wishes.put(tag, changed)
        return Answer()

    async def _booking_answer(self, msg: AppointmentMessage, request: str, tag: str,
                              aid: str) -> Answer:
        """The EPJ's SvarØnske to the booking of a proposal the youth accepted: booked (at
        the time it gives) or not (its Notat says why)."""
        record = await self.store.get(tag, aid)
        if record is None:
            return Answer(UNKNOWN_REQUEST, rejected=True)
        changed = booking_answered(record, request, msg.event, msg.note, self._now())
        if changed is not None:
            await self.store.put(tag, changed)
            await count(self.store.redis, record, changed)
        return Answer()

    async def _answer(self, message: IncomingMessage, her_id: int, answer: Answer,
                      msg_id: str | None) -> Answer:
        if msg_id is not None:
            await self.store.remember(msg_id, answer.to_text())
        status, errors = answer.apprec()
        await self._msh.post_apprec(message.id, her_id, status, errors)
        await self._msh.mark_read(message.id, her_id)
        log.info("appointment message %s: %s", message.id, answer.to_text())
        return answer

