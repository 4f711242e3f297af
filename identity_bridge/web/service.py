"""The identity bridge's web logic: the upgrade link with proof of possession, the
logged-in youth's threads and extra devices, on top of the login sessions (``logins.py``).
Routes (``routes.py``) are thin; everything that decides is here and there.

Never logged: pid, codes, tokens, states, nonces, challenges, session cookies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import struct
from typing import Any, cast

import httpx
import redis.asyncio as aioredis

from chat.actions.links import Links
from chat.clock import Clock
from chat.config import Config
from chat.crypto import b64decode, b64encode
from chat.crypto import primitives as p
from chat.crypto.errors import E2EError
from chat.domain.conversation import Conversation
from chat.errors import BadToken, ConversationClosed, LinkedElsewhere
from chat.protocol import events
from chat.protocol.events import encode
from chat.store.coalesce import Coalescer
from identity_bridge.oidc import IdPortenClient, RelyingPartyConfig

from . import keys
from .logins import PERSON_TTL, LoginSessions, YouthSession

log = logging.getLogger("helseprat.identity")

CHALLENGE_TTL = 300
LINK_DOMAIN = b"helseprat/link-proof/v1"


class LinkRefused(Exception):
    """The link was refused; ``code`` is stable and safe to show and log."""

    def __init__(self, code: str, status: int = 403) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


def link_message(challenge: bytes, conversation: str, login_session: str) -> bytes:
    """What the youth's conversation signing key signs to prove possession:
    domain ‖ challenge[32] ‖ u16 len ‖ conversation id ‖ u16 len ‖ login session id."""
    c, s = conversation.encode(), login_session.encode()
    return LINK_DOMAIN + challenge + struct.pack(">H", len(c)) + c + struct.pack(">H", len(s)) + s


def device_id(sign_public_key: bytes) -> str:
    return hashlib.blake2b(b"helseprat/device-id/v1" + sign_public_key, digest_size=8).hexdigest()


class IdentityWeb(LoginSessions):
    """One per web process (built by the bridge's start, when ``[idporten]`` is configured):
    the login (``LoginSessions``), the upgrade link, threads and devices."""

    def __init__(self, config: Config, rp_config: RelyingPartyConfig, person_key: bytes,
                 links: Links, redis: aioredis.Redis, clock: Clock,
                 http: httpx.AsyncClient | None = None) -> None:
        super().__init__(config, rp_config, person_key, links, redis, clock,
                         IdPortenClient(rp_config, http=http, clock=clock.now))

    async def aclose(self) -> None:
        await self.rp.aclose()

    # -- upgrade: proof of possession, then link -------------------------------------------
    async def check_anonymous(self, cid: str, token: str) -> Conversation:
        try:
            return await self.links.check_anonymous(cid, token)
        except BadToken:
            raise LinkRefused("bad_token") from None
        except ConversationClosed:
            raise LinkRefused("conversation_closed", 409) from None

    async def register_youth_key(self, cid: str, token: str, sign_pk: str) -> None:
        """The conversation's youth signing public key, sent right after start (first write
        wins): the later link proof is checked against it."""
        await self.check_anonymous(cid, token)
        if len(b64decode(sign_pk)) != 32:
            raise LinkRefused("bad_key", 400)
        await self.links.register_youth_key(cid, token, sign_pk)

    async def new_challenge(self, s: YouthSession) -> str:
        if not s.link_conversation:
            raise LinkRefused("no_upgrade_pending", 409)
        challenge = b64encode(p.random_bytes(32))
        await self.redis.hset(keys.session(s.tag), mapping={
            "ch": challenge, "chx": int(self.clock.now()) + CHALLENGE_TTL})
        return challenge

    async def link(self, s: YouthSession, cid: str, token: str, signature: str,
                   sign_pk: str) -> dict[str, str]:
        if not s.link_conversation or not hmac.compare_digest(s.link_conversation, cid):
            # This login was not started for this conversation (by a holder of its token).
            raise LinkRefused("no_upgrade_pending", 409)
        key = keys.session(s.tag)
        challenge, expires = cast(list[str | None], await self.redis.hmget(key, ["ch", "chx"]))
        if not challenge or not await self.redis.hdel(key, "ch", "chx"):
            raise LinkRefused("no_challenge", 409)
        if int(expires or 0) < self.clock.now():
            raise LinkRefused("challenge_expired", 409)
        conv = await self.check_anonymous(cid, token)
        if conv.person_tag and conv.person_tag != s.person:
            raise LinkRefused("linked_elsewhere", 409)
        registered = conv.youth_pk
        if registered and sign_pk and not hmac.compare_digest(registered, sign_pk):
            raise LinkRefused("bad_proof")
        youth_pk = registered or sign_pk
        try:
            pk = b64decode(youth_pk)
            p.verify_detached(b64decode(signature), link_message(b64decode(challenge), cid,
                                                                 s.public_id), pk)
        except (E2EError, ValueError):
            raise LinkRefused("bad_proof") from None
        seen = verified(s.acr, s.age)
        try:
            # The anonymous token and the resume code stop working: from now on the thread is
            # reached through the logged-in session only.
            linked = await self.links.link_person(
                cid, token, s.person, s.acr, s.age, youth_pk, keys.person_threads(s.person),
                keys.session(s.tag), PERSON_TTL,
                lambda state: encode(events.State(conversation=cid, state=state, verified=seen)))
        except LinkedElsewhere:
            raise LinkRefused("linked_elsewhere", 409) from None
        except BadToken:
            raise LinkRefused("bad_token") from None
        except ConversationClosed:
            raise LinkRefused("conversation_closed", 409) from None
        log.info("conversation linked to a logged-in youth", extra={"acr": s.acr})
        return {"conversation": cid, "service": linked.service, "state": linked.state.value}

    # -- the logged-in youth's threads and devices -----------------------------------------
    async def threads(self, s: YouthSession) -> list[dict[str, Any]]:
        out = []
        for cid in sorted(cast(set[str], await self.redis.smembers(keys.person_threads(s.person)))):
            conv = await self.links.conversation(cid)
            if conv is None or (conv.person_tag and conv.person_tag != s.person):
                await self.redis.srem(keys.person_threads(s.person), cid)  # expired/deleted
                continue
            if conv.person_tag != s.person:
                # Not linked (yet): on a Redis Cluster the set is written before the
                # conversation's own step (chat/store/clustered.py: ``link``).
                continue
            out.append({"conversation": cid, "service": conv.service, "state": conv.state.value,
                        "created": conv.created, "last": conv.last, "epoch": conv.epoch})
        out.sort(key=lambda t: -cast(int, t["last"]))
        return out

    async def thread(self, s: YouthSession, cid: str) -> Conversation:
        conv = await self.links.conversation(cid)
        if conv is None or not hmac.compare_digest(conv.person_tag, s.person):
            raise LinkRefused("not_your_thread", 404)
        return conv

    async def register_device(self, s: YouthSession, cid: str, box: str, sign: str) -> str:
        """The server attests the login: this device belongs to the person linked to the
        thread. A team member's browser then re-seals CK to it (or does not)."""
        await self.thread(s, cid)
        box_pk, sign_pk = b64decode(box), b64decode(sign)
        if len(box_pk) != 32 or len(sign_pk) != 32:
            raise LinkRefused("bad_key", 400)
        dev = device_id(sign_pk)
        record = {"device": dev, "box": box, "sign": sign, "st": "pending",
                  "acr": s.acr, "at": int(self.clock.now())}
        existing = await self.redis.hget(keys.devices(cid), dev)
        if existing:
            return dev
        await self.redis.hset(keys.devices(cid), dev, json.dumps(record))
        ttl = await self.links.expires_in(cid)
        if ttl:
            await self.redis.expire(keys.devices(cid), ttl)
        await self.links.notify(cid, device_pending(cid, record))
        log.info("youth device pending re-seal")
        return dev

    async def device_status(self, s: YouthSession, cid: str, dev: str) -> dict[str, Any]:
        conv = await self.thread(s, cid)
        raw = await self.redis.hget(keys.devices(cid), dev)
        if raw is None:
            raise LinkRefused("unknown_device", 404)
        record = json.loads(raw)
        others = [json.loads(v)["sign"] for k, v in
                  cast(dict[str, str], await self.redis.hgetall(keys.devices(cid))).items()
                  if k != dev and json.loads(v).get("st") == "ready"]
        return {"conversation": cid, "device": dev, "status": record["st"],
                "sealed_ck": record.get("sealed_ck", ""), "service": conv.service,
                "epoch": conv.epoch,
                # Senders this device must accept: the thread's first youth key (registered
                # at start) and the youth's other re-sealed devices. Server-attested.
                "youth_keys": [k for k in [conv.youth_pk, *others] if k]}


def verified(acr: str, age: str) -> dict[str, Any]:
    level = {"idporten-loa-substantial": "substantial", "idporten-loa-high": "high"}.get(acr, acr)
    return {"method": "idporten", "acr": acr, "level": level,
            "age": int(age) if age.isdigit() else "unknown"}


def device_pending(cid: str, record: dict[str, Any]) -> events.DevicePending:
    return events.DevicePending(conversation=cid, device=record["device"], box=record["box"],
                                sign=record["sign"], acr=record.get("acr", ""),
                                at=record.get("at", 0))


async def pending_device_frames(reads: Coalescer, cid: str) -> list[str]:
    """For the nurse endpoint when a conversation is opened: devices waiting for CK. Read
    through the store's coalescer: every dashboard back after a restart opens all its
    conversations at once (chat/store/coalesce.py)."""
    key = keys.devices(cid)
    raw = cast(dict[str, str], await reads.call(lambda pipe: pipe.hgetall(key)))
    out = []
    for value in raw.values():
        record = json.loads(value)
        if record.get("st") == "pending":
            out.append(encode(device_pending(cid, record)))
        elif record.get("st") == "ready" and record.get("key_bundle"):
            out.append(encode(device_ready(cid, record)))
    return out


def device_ready(cid: str, record: dict[str, Any]) -> events.DeviceReady:
    return events.DeviceReady(conversation=cid, device=record["device"], sign=record["sign"],
                              key_bundle=record.get("key_bundle", ""), by=record.get("by", ""))


async def reseal(redis: aioredis.Redis, links: Links, cid: str, dev: str, sealed_ck: str,
                 key_bundle: str, by: str) -> bool:
    """A team member's browser sealed CK to the device: store it for the device to fetch
    and tell everyone in the conversation (the youth's devices see that a device was added)."""
    raw = await redis.hget(keys.devices(cid), dev)
    if raw is None:
        return False
    record = json.loads(raw)
    record.update(st="ready", sealed_ck=sealed_ck, key_bundle=key_bundle, by=by)
    await redis.hset(keys.devices(cid), dev, json.dumps(record))
    await links.notify(cid, device_ready(cid, record))
    log.info("youth device re-sealed")
    return True
