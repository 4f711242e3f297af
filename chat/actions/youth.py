"""What a youth does: start a conversation, come back to it, write in it, end it."""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass

from anon import resume as resume_codes
from anon import tokens
from chat.actions.fairuse import FairUseActions
from chat.actions.later import LaterActions
from chat.config import Service
from chat.domain import conversation as model
from chat.domain.conversation import Conversation, Move, State
from chat.domain.later import reply_due
from chat.domain.ordering import NO_INTAKE, HeadStarts, Intake, head_start
from chat.errors import (
    BadResumeCode,
    BadToken,
    ConversationClosed,
    ConversationFull,
    InvalidState,
    NotAuthorized,
    RateLimited,
    ResumeHandleTaken,
    SessionEnded,
    TooManyAttempts,
    UnknownTopic,
)
from chat.intakeconfig import Topic
from chat.metrics import registry as metrics
from chat.protocol import events
from chat.protocol.commands import ResumeSetup
from chat.protocol.events import encode
from chat.store.conversations import AppendResult
from chat.store.queues import PRESENCE_TTL, WaitingSlot


@dataclass(frozen=True)
class Started:
    conversation: str
    token: str
    service: str
    # The client's waiting slot this start holds while it waits (None: a later start).
    slot: WaitingSlot | None


class YouthActions(LaterActions, FairUseActions):  # later.py, fairuse.py
    async def start(
        self, service_id: str, key_bundle: str, epoch: int, resume: ResumeSetup | None,
        client_key: str, intake: Intake = NO_INTAKE, capability: str = "",
    ) -> Started:
        """``capability``: the token the youth's browser holds from an earlier start, if any
        (fair use counts per token; fairuse.py)."""
        service = self.service(service_id)
        chosen = self.intake_fields(service.topics, intake)
        move = await self.start_move(service)
        await self.check_bundle(service.id, key_bundle, epoch)
        if not await self.limits.hit("start", client_key, self.hour(),
                                     self.config.limits.starts_per_client_per_hour, 3600):
            raise RateLimited("Too many new conversations from here. Try again later.")
        cid = tokens.new_conversation_id()
        token = await self.capability(capability)
        tag, start_id = await self.take_fair_use(token, cid, service)
        slot = self.waiting_slot(client_key) if move == Move.START else None
        try:  # a start refused from here on gives its fair-use places back
            fields, handle = await self.start_fields(service, cid, token, key_bundle, epoch,
                                                     resume, move, chosen)
            fields[model.FAIR_USE] = tag
            if not await self.store.create(cid, fields, service.retention_seconds,
                                           self.clock.now(), slot):
                if handle:
                    await self.limits.release_handle(handle, cid)
                raise RateLimited("Too many conversations waiting from here. Try again later.")
        except BaseException:
            await self.fair.release(tag, cid, start_id)
            raise
        await self.dashboard.on_started(service.id, intake)
        await self.tell(self.notices.youth_waiting(service.id))
        return Started(cid, token, service.id, slot)

    async def start_fields(self, service: Service, cid: str, token: str, key_bundle: str,
                           epoch: int, resume: ResumeSetup | None, move: Move,
                           chosen: tuple[str, bool, int]) -> tuple[dict[str, str | int], str]:
        """The new hash and, with a resume code, the tag of its handle, reserved for ``cid``
        (released by the caller if the start is then refused)."""
        resume_hash = resume_backup = tag = ""
        if resume is not None:
            handle = resume_codes.parse_words(resume.handle, resume_codes.HANDLE_WORDS)
            if handle is None or not resume_codes.valid_auth(resume.auth):
                raise BadResumeCode("The resume code is not made right.")
            tag = resume_codes.handle_tag(self.config.secrets.token_key, handle)
            if not await self.limits.reserve_handle(tag, cid, service.retention_seconds):
                raise ResumeHandleTaken()
            resume_hash = await asyncio.to_thread(resume_codes.hash_auth, resume.auth)
            resume_backup = resume.backup
        fields = model.new_hash(
            service.id, self.clock.now(), tokens.token_hash(self.config.secrets.token_key, token),
            key_bundle, epoch, resume_hash, resume_backup, move=move, intake=chosen)
        return fields, tag

    def intake_fields(self, topics: tuple[Topic, ...], intake: Intake) -> tuple[str, bool, int]:
        """The hash's topic, urgency and head start; an unknown topic is refused."""
        if intake.topic and all(t.code != intake.topic for t in topics):
            raise UnknownTopic()
        return intake.topic, intake.urgent, head_start(intake.urgent, "", self.head_starts())

    def head_starts(self) -> HeadStarts:
        limits = self.config.limits
        return HeadStarts(limits.urgent_head_start_seconds, limits.acute_head_start_seconds)

    def waiting_slot(self, client_key: str) -> WaitingSlot:
        """A new start's slot: it counts toward the client's waiting starts for as long as its
        socket pings, then while presence lapses and the grace runs (after which the sweep
        sets a still-absent youth's conversation aside)."""
        limits = self.config.limits
        return WaitingSlot(client_key, tokens.new_conversation_id(),
                           limits.waiting_starts_per_client,
                           PRESENCE_TTL + limits.waiting_gone_grace_seconds)

    async def come_back(self, conv: Conversation) -> None:
        """The youth of a waiting conversation is connected again: if the gone sweep had set
        it aside, it counts in the queue again, at its original place (docs/queue.md)."""
        if conv.state == State.WAITING:
            await self.store.unpark(conv.id, conv.service)

    async def set_aside_if_gone(self, cid: str, service: str) -> bool:
        """The gone sweep's one write: see ``QueueStore.park``."""
        return await self.store.park(cid, service, self.config.limits.waiting_gone_grace_seconds)

    async def authenticate(self, cid: str, token: str) -> Conversation:
        conv = await self.store.get(cid)
        stored = conv.token_hash if conv is not None else None
        if conv is None or not tokens.token_matches(self.config.secrets.token_key, token,
                                                    stored or None):
            raise BadToken()
        return conv

    async def authenticate_person(self, cid: str, person_tag: str) -> Conversation:
        """A logged-in youth (identity bridge): the thread must be linked to this person."""
        conv = await self.store.get(cid)
        linked = conv.person_tag if conv is not None else ""
        if conv is None or not person_tag or not linked \
                or not hmac.compare_digest(linked, person_tag):
            raise BadToken()
        return conv

    async def resume_with_code(
        self, handle_text: str, auth: str, client_key: str
    ) -> tuple[Conversation, str, str]:
        """Check a resume code and hand out a fresh token (the old one stops working) and the
        key backup that only the code's secret words can open."""
        limits = self.config.limits
        if not await self.limits.hit("resume", client_key, self.hour(),
                                     limits.resume_attempts_per_client_per_hour, 3600):
            raise TooManyAttempts()
        handle = resume_codes.parse_words(handle_text, resume_codes.HANDLE_WORDS)
        if handle is None or not resume_codes.valid_auth(auth):
            raise BadResumeCode()
        tag = resume_codes.handle_tag(self.config.secrets.token_key, handle)
        cid = await self.limits.handle_conversation(tag)
        # Counted before the slow check, and unknown handles too: the answers and the work
        # done are the same whether the handle exists or not.
        if not await self.limits.count_resume_attempt(tag, cid,
                                                      limits.resume_attempts_per_conversation):
            raise TooManyAttempts()
        conv = await self.store.get(cid) if cid else None
        stored = conv.resume_hash if conv is not None else ""
        # Always one argon2 verification (a dummy hash when there is no code to check).
        if not await asyncio.to_thread(resume_codes.verify_auth, auth, stored or None) \
                or conv is None:
            raise BadResumeCode()
        token = tokens.new_token()
        await self.store.set_fields(conv.id, {
            model.TOKEN_HASH: tokens.token_hash(self.config.secrets.token_key, token),
            model.RESUMED_AT: int(self.clock.now())})
        await self.limits.clear_resume_attempts(conv.id)
        return conv, token, conv.resume_backup

    async def send(
        self, conv: Conversation, role: str, sender: str, cmid: str, body: str,
        writer: str = "", session: str = "",
    ) -> AppendResult:
        """Append a message. ``writer`` is the nurse who must have the conversation (checked
        atomically by the append script); empty for the youth's own connection. ``session``:
        the nurse's session tag, checked in the same step (``Store.append_checks_session``);
        SessionEnded when it has ended."""
        service = self.service(conv.service)
        ts = int(self.clock.now())
        prefix, suffix = events.deliver_template(conv.id, role, sender, cmid, body, ts)
        limits = self.config.limits
        result = await self.store.append(
            conv.id, cmid, role, sender, body, ts, service.retention_seconds, prefix, suffix,
            writer, caps=(limits.max_messages_per_conversation, limits.max_bytes_per_conversation),
            service=conv.service, session=session)
        if result == -1:
            raise BadToken()
        if result == -2:
            raise ConversationClosed()
        if result == -3:
            raise NotAuthorized("Claim the conversation before writing in it.")
        if result == -4:
            raise ConversationFull()
        if result == -5:
            raise SessionEnded()
        assert isinstance(result, AppendResult)
        if result.status != 1:
            return result
        metrics.message_stored(role)
        if writer:  # a nurse's message
            if result.later_owed:
                await self.answered_later(conv, result.later_owed, ts)
            if result.subscribed:
                await self.tell(self.notices.nurse_answered(conv))
        elif result.listed:  # now owed in a later conversation: say when it is promised by
            await self.store.notify(conv.id, encode(events.State(
                conversation=conv.id, state=State.LATER, due=reply_due(result.listed, service))))
        return result

    async def typing(self, cid: str, role: str, stopped: bool = False) -> None:
        await self.store.notify(cid, encode(events.Typing(conversation=cid, from_=role,
                                                          stopped=True if stopped else None)))

    async def feedback(self, conv: Conversation, helpful: bool) -> bool:
        """Count the youth's "was this helpful?" once per ended conversation, in a counter per
        service and week that names no conversation. False when it was already counted."""
        fresh = await self.store.get(conv.id)
        if fresh is None:
            raise BadToken()
        if fresh.state != State.CLOSED:
            raise InvalidState("Feedback is given after the conversation has ended.")
        return await self.dashboard.feedback(fresh, helpful)

    async def end_by_youth(self, conv: Conversation) -> None:
        await self.close_as(conv, Move.END_BY_YOUTH, "youth_ended")
