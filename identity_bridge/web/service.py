"""The identity bridge's web logic: login sessions, the upgrade link with proof of
possession, the logged-in youth's threads and extra devices. Routes (``routes.py``) are
thin; everything that decides is here.

Never logged: pid, codes, tokens, states, nonces, challenges, session cookies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import struct
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

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
from identity_bridge.oidc import IdPortenClient, LoginResult, RelyingPartyConfig

from . import keys
from .persons import PersonSealer
from .stores import CapturingStore, RedisLoginSessionIndex, RedisPendingStore

log = logging.getLogger("helseprat.identity")

SESSION_COOKIE = "hp_youth"
SESSION_TTL = 8 * 3600
CHALLENGE_TTL = 300
PERSON_TTL = 400 * 86_400
LINK_DOMAIN = b"helseprat/link-proof/v1"
_OSLO = ZoneInfo("Europe/Oslo")


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


@dataclass(frozen=True)
class Intent:
    """What a login was started for, carried (server-side only) in the pending login."""

    kind: str  # "upgrade" | "login"
    conversation: str = ""
    service: str = ""
    lang: str = "nb"
    binding_hash: str = ""

    def to_json(self) -> str:
        return json.dumps({"k": self.kind, "c": self.conversation, "s": self.service,
                           "l": self.lang, "b": self.binding_hash}, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> Intent:
        try:
            d = json.loads(raw)
            return cls(str(d["k"]), str(d["c"]), str(d["s"]), str(d["l"]), str(d["b"]))
        except (ValueError, KeyError, TypeError):
            return cls("login")


@dataclass(frozen=True)
class YouthSession:
    tag: str
    person: str
    public_id: str  # the login session id the link proof names (not a secret)
    confirmed: bool
    acr: str
    age: str
    link_conversation: str
    lang: str


def _binding_hash(binding: str) -> str:
    return hashlib.sha256(b"helseprat/login-binding/v1\x00" + binding.encode()).hexdigest()


def age_text(age: int | None) -> str:
    return "unknown" if age is None else str(age)


class IdentityWeb:
    """One per web process (built by the bridge's start, when ``[idporten]`` is configured)."""

    def __init__(self, config: Config, rp_config: RelyingPartyConfig, person_key: bytes,
                 links: Links, redis: aioredis.Redis, clock: Clock,
                 http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.rp_config = rp_config
        self.links = links  # what the bridge may do to a chat conversation
        self.redis = redis  # the bridge's own keys (sessions, threads, devices)
        self.clock = clock
        self.rp = IdPortenClient(rp_config, http=http, clock=clock.now)
        self.pending = RedisPendingStore(redis, rp_config.pending_login_ttl_seconds)
        self.index = RedisLoginSessionIndex(redis)
        self.sealer = PersonSealer(person_key)

    async def aclose(self) -> None:
        await self.rp.aclose()

    # -- login -----------------------------------------------------------------------------
    async def start_login(self, intent: Intent) -> tuple[str, str]:
        """Returns (authorize URL, binding). The binding stays in the tab that started the
        login (sessionStorage) and must come back to confirm the session: a callback URL
        forwarded to someone else's browser (login CSRF) yields a session nobody can use."""
        binding = secrets.token_urlsafe(32)
        intent = Intent(intent.kind, intent.conversation, intent.service, intent.lang,
                        _binding_hash(binding))
        start = await self.rp.start_login(return_to=intent.to_json())
        await self.pending.put(start.pending, self.rp_config.pending_login_ttl_seconds)
        return start.authorize_url, binding

    async def complete_login(
        self, params: dict[str, str], store: CapturingStore
    ) -> tuple[str, Intent]:
        """Raises OidcError; ``store.taken`` then tells which intent (for the error page)."""
        result = await self.rp.complete_login(params, store)
        intent = Intent.from_json(result.return_to)
        cookie = await self._new_session(result, intent)
        return cookie, intent

    def capturing_store(self) -> CapturingStore:
        return CapturingStore(self.pending)

    def _session_tag(self, cookie: str) -> str:
        return hmac.new(self.config.secrets.token_key, b"helseprat/youth-session/v1\x00"
                        + cookie.encode(), hashlib.sha256).hexdigest()

    async def _new_session(self, result: LoginResult, intent: Intent) -> str:
        claims = result.claims
        pid = claims.pid.value
        person = self.sealer.tag(pid)
        today = dt.datetime.fromtimestamp(self.clock.now(), _OSLO).date()
        age = age_text(claims.pid.age_on(today))
        cookie = secrets.token_urlsafe(32)
        tag = self._session_tag(cookie)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(keys.person(person), "pid", b64encode(self.sealer.seal(pid, person)))
        pipe.hsetnx(keys.person(person), "created", int(self.clock.now()))
        pipe.expire(keys.person(person), PERSON_TTL)
        fields: dict[str, Any] = {
            "p": person, "lsid": secrets.token_urlsafe(18), "cf": "0", "acr": claims.acr.value,
            "age": age, "bh": intent.binding_hash, "lang": intent.lang,
            "it": b64encode(self.sealer.seal(result.id_token, tag)),
            "created": int(self.clock.now()),
        }
        if claims.sid:
            fields["sid"] = b64encode(self.sealer.seal(claims.sid, tag))
        if intent.kind == "upgrade" and intent.conversation:
            fields["lc"] = intent.conversation
        pipe.hset(keys.session(tag), mapping=fields)  # type: ignore[arg-type]
        pipe.expire(keys.session(tag), SESSION_TTL)
        await pipe.execute()
        if claims.sid:
            await self.index.bind(claims.issuer, claims.sid, tag, SESSION_TTL)
        # Linked threads learn the age and level of this (newest) login.
        await self.links.refresh_login_level(keys.person_threads(person), person,
                                             claims.acr.value, age)
        log.info("youth login session started", extra={"acr": claims.acr.value})
        return cookie

    async def session(self, cookie: str | None, *, confirmed: bool = True) -> YouthSession | None:
        if not cookie or len(cookie) > 128:
            return None
        tag = self._session_tag(cookie)
        raw = cast(dict[str, str], await self.redis.hgetall(keys.session(tag)))
        if not raw or (confirmed and raw.get("cf") != "1"):
            return None
        return YouthSession(tag=tag, person=raw["p"], public_id=raw.get("lsid", ""),
                            confirmed=raw.get("cf") == "1", acr=raw.get("acr", ""),
                            age=raw.get("age", "unknown"), link_conversation=raw.get("lc", ""),
                            lang=raw.get("lang", "nb"))

    async def confirm(self, cookie: str | None, binding: str) -> YouthSession | None:
        s = await self.session(cookie, confirmed=False)
        if s is None:
            return None
        if s.confirmed:
            return s
        stored = cast(str | None, await self.redis.hget(keys.session(s.tag), "bh"))
        if not stored or not hmac.compare_digest(stored, _binding_hash(binding)):
            return None
        await self.redis.hset(keys.session(s.tag), "cf", "1")
        return await self.session(cookie)

    async def end_session(self, tag: str) -> str | None:
        """Delete a local session; returns its id_token (the logout hint) if it had one."""
        raw = cast(dict[str, str], await self.redis.hgetall(keys.session(tag)))
        await self.redis.delete(keys.session(tag))
        if not raw:
            return None
        if raw.get("sid"):
            sid = self.sealer.open(b64decode(raw["sid"]), tag)
            await self.index.forget(self.rp_config.issuer, sid)
        return self.sealer.open(b64decode(raw["it"]), tag) if raw.get("it") else None

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
            if conv is None or conv.person_tag != s.person:
                await self.redis.srem(keys.person_threads(s.person), cid)  # expired/deleted
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


async def pending_device_frames(redis: aioredis.Redis, cid: str) -> list[str]:
    """For the nurse endpoint when a conversation is opened: devices waiting for CK."""
    raw = cast(dict[str, str], await redis.hgetall(keys.devices(cid)))
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
