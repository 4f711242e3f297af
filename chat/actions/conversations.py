"""The actions layer: every state change of a conversation goes through here.

Each action checks who may do it, stores the change, and only then publishes (the store's Lua
scripts publish inside the same atomic step). Endpoints never write to Redis themselves.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import logging
from dataclasses import dataclass
from typing import cast

from anon import resume as resume_codes
from anon import tokens
from anon.ratelimit import hit_window, window_count
from chat.actions import transfer as _transfer
from chat.actions.dashboard import Dashboard
from chat.clock import Clock
from chat.config import Config, Service
from chat.crypto import E2EError, check_bundle_epoch
from chat.errors import (
    AlreadyClaimed,
    BadOutcome,
    BadResumeCode,
    BadToken,
    CapacityReached,
    ConversationClosed,
    KeyBundleRequired,
    NotAuthorized,
    RateLimited,
    ResumeHandleTaken,
    ServiceClosed,
    StaleKeyBundle,
    TooManyAttempts,
    UnknownService,
)
from chat.protocol import frames
from chat.protocol.commands import ResumeSetup
from chat.store import names as keys
from chat.store.conversations import AppendResult, Store
from chat.store.teamkeys import TeamKeys

log = logging.getLogger("helseprat.actions")


@dataclass(frozen=True)
class Nurse:
    username: str
    display_name: str
    role: str  # "nurse" | "lead" | "admin"
    services: frozenset[str]


@dataclass(frozen=True)
class Started:
    conversation: str
    token: str
    service: str


@dataclass(frozen=True)
class Conversation:
    id: str
    service: str
    state: str
    seq: int
    nurse: str
    key_bundle: str
    epoch: int
    created: int
    # Dashboard (issue 5): risk flag, when it (re)entered a queue, earlier "service:epoch"s.
    flag: str = ""
    queued: int = 0
    history: str = ""
    # Identity bridge (issue 6): set when linked to an ID-porten login; age in whole years or
    # "unknown" where the person number does not tell it.
    acr: str = ""
    age: str = ""


def _conversation(cid: str, meta: dict[str, str]) -> Conversation:
    return Conversation(
        id=cid, service=meta.get("svc", ""), state=meta.get("st", ""),
        seq=int(meta.get("seq", 0)), nurse=meta.get("nurse", ""),
        key_bundle=meta.get("kb", ""), epoch=int(meta.get("ep", 0)),
        created=int(meta.get("created", 0)),
        flag=meta.get("flag", ""), queued=int(meta.get("queued", 0) or 0),
        history=meta.get("hist", ""),
        acr=meta.get("acr", ""), age=meta.get("age", ""),
    )


def state_frame(cid: str, state: str, **extra: str) -> str:
    return frames.frame("state", conversation=cid, state=state, **extra)


class Actions:
    def __init__(self, config: Config, store: Store, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.teamkeys = TeamKeys(store.redis)
        self.dashboard = Dashboard(config, store, clock)

    def _service(self, service_id: str) -> Service:
        service = self.config.service(service_id)
        if service is None:
            raise UnknownService()
        return service

    def _hour(self) -> int:
        return int(self.clock.now() // 3600)

    # -- youth -------------------------------------------------------------------------------
    async def start(
        self, service_id: str, key_bundle: str, epoch: int, resume: ResumeSetup | None,
        client_key: str,
    ) -> Started:
        service = self._service(service_id)
        if not service.hours.is_open(service.local_now(self.clock.now())):
            raise ServiceClosed()
        await self._check_bundle(service.id, key_bundle, epoch)
        limit = self.config.limits.starts_per_client_per_hour
        if not await hit_window(self.store.redis, keys.rate("start", client_key, self._hour()),
                                limit, 3600):
            raise RateLimited("Too many new conversations from here. Try again later.")
        cid = tokens.new_conversation_id()
        token = tokens.new_token()
        fields: dict[str, str | int] = {
            "th": tokens.token_hash(self.config.secrets.token_key, token),
            "kb": key_bundle,
            "ep": epoch,
        }
        ttl = service.retention_seconds
        if resume is not None:
            handle = resume_codes.parse_words(resume.handle, resume_codes.HANDLE_WORDS)
            if handle is None or not resume_codes.valid_auth(resume.auth):
                raise BadResumeCode("The resume code is not made right.")
            tag = resume_codes.handle_tag(self.config.secrets.token_key, handle)
            if not await self.store.redis.set(keys.resume_handle(tag), cid, ex=ttl, nx=True):
                raise ResumeHandleTaken()
            fields["rh"] = await asyncio.to_thread(resume_codes.hash_auth, resume.auth)
            fields["rb"] = resume.backup
        await self.store.create_conversation(cid, service.id, fields, ttl, self.clock.now())
        await self.dashboard.on_started(service.id)
        return Started(cid, token, service.id)

    async def _check_bundle(self, service: str, key_bundle: str, epoch: int) -> None:
        """A service with a team key takes only conversations sealed to its current epoch."""
        current = await self.teamkeys.current_epoch(service)
        if current is None:
            return
        if not key_bundle:
            raise KeyBundleRequired()
        try:
            check_bundle_epoch(epoch, current)
        except E2EError as exc:
            raise StaleKeyBundle(code=exc.code) from None

    async def authenticate(self, cid: str, token: str) -> Conversation:
        meta = await self.store.meta(cid)
        if not tokens.token_matches(self.config.secrets.token_key, token, meta.get("th")):
            raise BadToken()
        return _conversation(cid, meta)

    async def authenticate_person(self, cid: str, person_tag: str) -> Conversation:
        """A logged-in youth (identity bridge): the thread must be linked to this person."""
        meta = await self.store.meta(cid)
        linked = meta.get("ptag", "")
        if not person_tag or not linked or not hmac.compare_digest(linked, person_tag):
            raise BadToken()
        return _conversation(cid, meta)

    async def resume_with_code(
        self, handle_text: str, auth: str, client_key: str
    ) -> tuple[Conversation, str, str]:
        """Check a resume code and hand out a fresh token (the old one stops working) and the
        key backup that only the code's secret words can open."""
        limits = self.config.limits
        if not await hit_window(self.store.redis, keys.rate("resume", client_key, self._hour()),
                                limits.resume_attempts_per_client_per_hour, 3600):
            raise TooManyAttempts()
        handle = resume_codes.parse_words(handle_text, resume_codes.HANDLE_WORDS)
        if handle is None or not resume_codes.valid_auth(auth):
            raise BadResumeCode()
        tag = resume_codes.handle_tag(self.config.secrets.token_key, handle)
        cid = cast(str | None, await self.store.redis.get(keys.resume_handle(tag)))
        if cid is None:
            raise BadResumeCode()
        attempts_key = keys.resume_attempts(cid)
        if await window_count(self.store.redis, attempts_key) >= limits.resume_attempts_per_conversation:
            raise TooManyAttempts()
        meta = await self.store.meta(cid)
        stored = meta.get("rh")
        if not stored or not await asyncio.to_thread(resume_codes.verify_auth, auth, stored):
            await hit_window(self.store.redis, attempts_key, 10**6, 3600)
            raise BadResumeCode()
        token = tokens.new_token()
        await self.store.redis.hset(keys.meta(cid), "th",
                                    tokens.token_hash(self.config.secrets.token_key, token))
        await self.store.redis.delete(attempts_key)
        return _conversation(cid, meta), token, meta.get("rb", "")

    async def send(
        self, conv: Conversation, role: str, sender: str, cmid: str, body: str,
        writer: str = "",
    ) -> AppendResult:
        """Append a message. ``writer`` is the nurse who must have the conversation (checked
        atomically by the append script); empty for the youth's own connection."""
        service = self._service(conv.service)
        ts = int(self.clock.now())
        prefix, suffix = frames.deliver_template(conv.id, role, sender, cmid, body, ts)
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
        await self.store.publish(keys.conversation_channel(cid),
                                 "0 " + frames.frame("typing", conversation=cid, **{"from": role}))

    async def end_by_youth(self, conv: Conversation) -> None:
        await self._close(conv, "youth_ended", nurse="")

    # -- nurse -------------------------------------------------------------------------------
    async def conversation_for(self, nurse: Nurse, cid: str) -> Conversation:
        meta = await self.store.meta(cid)
        if not meta or meta.get("svc") not in nurse.services:
            raise NotAuthorized()
        return _conversation(cid, meta)

    async def claim(self, nurse: Nurse, cid: str) -> Conversation:
        conv = await self.conversation_for(nurse, cid)
        service = self._service(conv.service)
        if not await self.store.reserve_slot(nurse.username, cid, service.max_chats_per_nurse):
            raise CapacityReached()
        now = self.clock.now()
        won = await self.store.claim(
            cid, nurse.username, now,
            state_frame(cid, "active", nurse=nurse.display_name))
        if won != 1:
            await self.store.free_slot(nurse.username, cid)
            if won == 0:
                raise AlreadyClaimed()
            raise NotAuthorized()
        await self.store.dequeue(conv.service, cid)
        waited = max(0.0, now - (conv.queued or conv.created))  # a transfer re-queues
        await self.store.record_wait(conv.service, waited)
        await self.dashboard.on_claimed(nurse, conv, waited)
        log.info("claimed", extra={"service": conv.service})
        return _conversation(cid, await self.store.meta(cid))

    async def release(self, nurse: Nurse, cid: str) -> None:
        conv = await self.conversation_for(nurse, cid)
        r = await self.store.release(cid, nurse.username, state_frame(cid, "waiting"))
        if r != 1:
            raise NotAuthorized("Only the nurse who has the conversation can release it.")
        await self.store.free_slot(nurse.username, cid)
        await self.store.requeue(conv.service, cid, conv.queued or conv.created)
        await self.dashboard.on_released(nurse, conv)

    async def close(self, nurse: Nurse, cid: str, outcome: str) -> None:
        conv = await self.conversation_for(nurse, cid)
        if outcome not in self._service(conv.service).outcomes:
            raise BadOutcome()
        await self._close(conv, outcome, nurse=nurse.username)

    async def _close(self, conv: Conversation, outcome: str, nurse: str) -> None:
        service = self._service(conv.service)
        meta = await self.store.meta(conv.id)  # claim time, flag: for the dashboard's figures
        previous = await self.store.close(
            conv.id, outcome, self.clock.now(), service.retention_seconds,
            state_frame(conv.id, "closed", outcome=outcome), nurse=nurse)
        if previous == "forbidden":
            raise NotAuthorized("Only the nurse who has the conversation can close it.")
        if previous == "none":
            raise BadToken()
        if previous == "waiting":
            await self.store.dequeue(conv.service, conv.id)
        if conv.nurse:
            await self.store.free_slot(conv.nurse, conv.id)
        if previous in ("waiting", "active"):
            await self.dashboard.on_closed(conv, outcome, nurse, previous, meta)

    async def rekey(self, nurse: Nurse, cid: str, key_bundle: str, epoch: int) -> None:
        """Store a conversation key re-sealed (by a team member's client) to the current epoch.

        The server cannot check the bundle's contents (it cannot open it); it checks who sends
        it and that it is for the service's current epoch, so only the newest team can read.
        """
        conv = await self.conversation_for(nurse, cid)
        if conv.state == "closed":
            raise ConversationClosed()
        current = await self.teamkeys.current_epoch(conv.service)
        if current is None or epoch != current:
            raise StaleKeyBundle()
        await self.store.redis.hset(keys.meta(cid), mapping={"kb": key_bundle, "ep": epoch})

    # -- dashboard (issue 5) ---------------------------------------------------------------
    async def transfer(
        self, nurse: Nurse, cid: str, to_service: str, to_nurse: str, key_bundle: str,
        epoch: int, note: str,
    ) -> Conversation:
        return await _transfer.transfer(self, nurse, cid, to_service, to_nurse, key_bundle,
                                        epoch, note)

    async def flag(self, nurse: Nurse, cid: str, kind: str) -> Conversation:
        conv = await self.conversation_for(nurse, cid)
        await self.dashboard.flag(nurse, conv, kind)
        return conv

    async def after_auto_close(self, cid: str, meta: dict[str, str]) -> None:
        """Book-keeping after the inactivity sweep closed a conversation (already stored)."""
        conv = _conversation(cid, meta)
        if conv.nurse:
            await self.store.free_slot(conv.nurse, cid)
        from chat.jobs.autoclose import OUTCOME

        await self.dashboard.on_closed(conv, OUTCOME, "system", "active", meta, auto=True)

    async def open_conversations(self, nurse: Nurse) -> list[str]:
        members = await self.store.redis.smembers(keys.nurse_open(nurse.username))
        return sorted(cast(set[str], members))


