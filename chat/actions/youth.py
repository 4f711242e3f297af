"""What a youth does: start a conversation, come back to it, write in it, end it."""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
from dataclasses import dataclass

from anon import resume as resume_codes
from anon import tokens
from chat.actions.base import ActionsBase
from chat.domain import conversation as model
from chat.domain.conversation import Conversation, Move
from chat.errors import (
    BadResumeCode,
    BadToken,
    ConversationClosed,
    NotAuthorized,
    RateLimited,
    ResumeHandleTaken,
    ServiceClosed,
    TooManyAttempts,
)
from chat.protocol import events
from chat.protocol.commands import ResumeSetup
from chat.protocol.events import encode
from chat.store.conversations import AppendResult


@dataclass(frozen=True)
class Started:
    conversation: str
    token: str
    service: str


class YouthActions(ActionsBase):
    async def start(
        self, service_id: str, key_bundle: str, epoch: int, resume: ResumeSetup | None,
        client_key: str,
    ) -> Started:
        service = self.service(service_id)
        if not service.hours.is_open(service.local_now(self.clock.now())):
            raise ServiceClosed()
        await self.check_bundle(service.id, key_bundle, epoch)
        if not await self.limits.hit("start", client_key, self.hour(),
                                     self.config.limits.starts_per_client_per_hour, 3600):
            raise RateLimited("Too many new conversations from here. Try again later.")
        cid = tokens.new_conversation_id()
        token = tokens.new_token()
        ttl = service.retention_seconds
        resume_hash = resume_backup = ""
        if resume is not None:
            handle = resume_codes.parse_words(resume.handle, resume_codes.HANDLE_WORDS)
            if handle is None or not resume_codes.valid_auth(resume.auth):
                raise BadResumeCode("The resume code is not made right.")
            tag = resume_codes.handle_tag(self.config.secrets.token_key, handle)
            if not await self.limits.reserve_handle(tag, cid, ttl):
                raise ResumeHandleTaken()
            resume_hash = await asyncio.to_thread(resume_codes.hash_auth, resume.auth)
            resume_backup = resume.backup
        now = self.clock.now()
        fields = model.new_hash(
            service.id, now, tokens.token_hash(self.config.secrets.token_key, token),
            key_bundle, epoch, resume_hash, resume_backup)
        await self.store.create(cid, fields, ttl, now)
        await self.dashboard.on_started(service.id)
        return Started(cid, token, service.id)

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
        if cid is None:
            raise BadResumeCode()
        if await self.limits.resume_attempts(cid) >= limits.resume_attempts_per_conversation:
            raise TooManyAttempts()
        conv = await self.store.get(cid)
        stored = conv.resume_hash if conv is not None else ""
        if conv is None or not stored \
                or not await asyncio.to_thread(resume_codes.verify_auth, auth, stored):
            await self.limits.failed_resume(cid)
            raise BadResumeCode()
        token = tokens.new_token()
        await self.store.set_fields(cid, {
            model.TOKEN_HASH: tokens.token_hash(self.config.secrets.token_key, token)})
        await self.limits.clear_resume_attempts(cid)
        return conv, token, conv.resume_backup

    async def send(
        self, conv: Conversation, role: str, sender: str, cmid: str, body: str,
        writer: str = "",
    ) -> AppendResult:
        """Append a message. ``writer`` is the nurse who must have the conversation (checked
        atomically by the append script); empty for the youth's own connection."""
        service = self.service(conv.service)
        ts = int(self.clock.now())
        prefix, suffix = events.deliver_template(conv.id, role, sender, cmid, body, ts)
        result = await self.store.append(conv.id, cmid, role, sender, body, ts,
                                         service.retention_seconds, prefix, suffix, writer)
        if result == -1:
            raise BadToken()
        if result == -2:
            raise ConversationClosed()
        if result == -3:
            raise NotAuthorized("Claim the conversation before writing in it.")
        assert isinstance(result, AppendResult)
        return dataclasses.replace(result, ts=ts) if result.status == 1 else result

    async def typing(self, cid: str, role: str) -> None:
        await self.store.notify(cid, encode(events.Typing(conversation=cid, from_=role)))

    async def end_by_youth(self, conv: Conversation) -> None:
        await self.close_as(conv, Move.END_BY_YOUTH, "youth_ended")
