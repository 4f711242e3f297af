"""A youth's ID-porten login, from the start to a confirmed session.

Two bindings keep a login with the youth who started it:
- the browser: ``POST /login/idporten/start`` sets a login cookie (``LOGIN_COOKIE``, scoped
  to ``/login/idporten``) whose hash the pending login keeps; the callback is honoured only
  with it, and another browser's callback leaves the pending login for the right one;
- the tab: a random ``binding`` kept in the starting tab's sessionStorage confirms the
  session (``POST /api/youth/session/confirm``).
The person (their sealed pid) is stored only when the session is confirmed; until then the
session hash holds the pid sealed to itself, and ends with it.

Never logged: pid, codes, tokens, states, nonces, cookies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from chat.actions.links import Links
from chat.clock import Clock
from chat.config import Config
from chat.crypto import b64decode, b64encode
from chat.store.client import is_cluster_client
from identity_bridge.oidc import (
    IdPortenClient,
    LoginResult,
    RelyingPartyConfig,
    browser_hash,
    pending_key,
)
from identity_bridge.personseal import PersonSealer

from . import keys
from .stores import CapturingStore, RedisLoginSessionIndex, RedisPendingStore

log = logging.getLogger("helseprat.identity")

SESSION_COOKIE = "hp_youth"
LOGIN_COOKIE = "hp_login"
LOGIN_COOKIE_PATH = "/login/idporten"
SESSION_TTL = 8 * 3600
PERSON_TTL = 400 * 86_400
_OSLO = ZoneInfo("Europe/Oslo")


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

    @property
    def target(self) -> str:
        """Where the browser goes once the callback has made the session."""
        if self.kind == "upgrade" and self.service:
            return f"/s/{self.service}?" + urlencode({"lang": self.lang, "login": "1"})
        return "/mine?" + urlencode({"lang": self.lang, "login": "1"})


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


@dataclass(frozen=True)
class LoginStarted:
    authorize_url: str
    binding: str  # for the tab (sessionStorage)
    browser_binding: str  # for the login cookie


def binding_hash(binding: str) -> str:
    return hashlib.sha256(b"helseprat/login-binding/v1\x00" + binding.encode()).hexdigest()


def age_text(age: int | None) -> str:
    return "unknown" if age is None else str(age)


class LoginSessions:
    """The login half of ``IdentityWeb`` (service.py), which builds it."""

    def __init__(self, config: Config, rp_config: RelyingPartyConfig, person_key: bytes,
                 links: Links, redis: aioredis.Redis, clock: Clock, rp: IdPortenClient) -> None:
        self.config = config
        self.rp_config = rp_config
        self.links = links  # what the bridge may do to a chat conversation
        self.redis = redis  # the bridge's own keys (sessions, threads, devices)
        self.clock = clock
        self.rp = rp
        self.pending = RedisPendingStore(redis, rp_config.pending_login_ttl_seconds)
        self.index = RedisLoginSessionIndex(redis)
        self.sealer = PersonSealer(person_key)
        # On a Redis Cluster the person and the login session are on two slots (no one MULTI).
        self.split = is_cluster_client(redis)

    async def start_login(self, intent: Intent, browser_binding: str | None) -> LoginStarted:
        """``browser_binding``: the login cookie the browser already has (tabs share it)."""
        binding = secrets.token_urlsafe(32)
        intent = Intent(intent.kind, intent.conversation, intent.service, intent.lang,
                        binding_hash(binding))
        start = await self.rp.start_login(intent.to_json(), browser_binding)
        await self.pending.put(start.pending, self.rp_config.pending_login_ttl_seconds)
        return LoginStarted(start.authorize_url, binding, start.browser_binding)

    async def complete_login(
        self, params: dict[str, str], store: CapturingStore, browser_binding: str | None
    ) -> tuple[str, Intent]:
        """Raises OidcError; ``store.taken`` then tells which intent (for the error page).
        Returns (session cookie, intent); the tombstone remembers ``intent.target``."""
        result = await self.rp.complete_login(params, store, browser_binding)
        intent = Intent.from_json(result.return_to)
        cookie = await self._new_session(result, intent)
        assert browser_binding  # complete_login refuses a callback without it
        await self.pending.remember_target(pending_key(params.get("state", "")),
                                           browser_hash(browser_binding), intent.target)
        return cookie, intent

    async def replay_target(self, params: dict[str, str], browser_binding: str | None) -> str | None:
        """A callback replayed after its login was completed in this browser: where it went."""
        if not browser_binding:
            return None
        return await self.pending.replay_target(pending_key(params.get("state", "")),
                                                browser_hash(browser_binding))

    def capturing_store(self) -> CapturingStore:
        return CapturingStore(self.pending)

    def session_tag(self, cookie: str) -> str:
        return hmac.new(self.config.secrets.token_key, b"helseprat/youth-session/v1\x00"
                        + cookie.encode(), hashlib.sha256).hexdigest()

    async def _new_session(self, result: LoginResult, intent: Intent) -> str:
        claims = result.claims
        pid = claims.pid.value
        today = dt.datetime.fromtimestamp(self.clock.now(), _OSLO).date()
        cookie = secrets.token_urlsafe(32)
        tag = self.session_tag(cookie)
        fields: dict[str, Any] = {
            "p": self.sealer.tag(pid), "lsid": secrets.token_urlsafe(18), "cf": "0",
            "acr": claims.acr.value, "age": age_text(claims.pid.age_on(today)),
            "bh": intent.binding_hash, "lang": intent.lang,
            # The pid waits here, sealed to this session, until the session is confirmed.
            "sp": b64encode(self.sealer.seal(pid, tag)),
            "it": b64encode(self.sealer.seal(result.id_token, tag)),
            "created": int(self.clock.now()),
        }
        if claims.sid:
            fields["sid"] = b64encode(self.sealer.seal(claims.sid, tag))
        if intent.kind == "upgrade" and intent.conversation:
            fields["lc"] = intent.conversation
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.session(tag), mapping=fields)  # type: ignore[arg-type]
        pipe.expire(keys.session(tag), SESSION_TTL)
        await pipe.execute()
        if claims.sid:
            await self.index.bind(claims.issuer, claims.sid, tag, SESSION_TTL)
        log.info("youth login session started", extra={"acr": claims.acr.value})
        return cookie

    async def session(self, cookie: str | None, *, confirmed: bool = True) -> YouthSession | None:
        if not cookie or len(cookie) > 128:
            return None
        tag = self.session_tag(cookie)
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
        stored, sealed = cast(list[str | None],
                              await self.redis.hmget(keys.session(s.tag), ["bh", "sp"]))
        if not stored or not hmac.compare_digest(stored, binding_hash(binding)):
            return None
        if sealed:  # else a confirm running beside this one has just stored the person
            await self._store_person(s, self.sealer.open(b64decode(sealed), s.tag))
        return await self.session(cookie)

    async def _store_person(self, s: YouthSession, pid: str) -> None:
        """The session is the youth's own: now the person is stored (first login: created)."""
        person = s.person
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(keys.person(person), "pid", b64encode(self.sealer.seal(pid, person)))
        pipe.hsetnx(keys.person(person), "created", int(self.clock.now()))
        pipe.expire(keys.person(person), PERSON_TTL)
        if self.split:
            # The person and the session are on two slots: the person first, so a lost
            # second step leaves an unconfirmed session, whose confirm the youth repeats (the
            # person's fields are set only if missing).
            await pipe.execute()
            pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.session(s.tag), "cf", "1")
        pipe.hdel(keys.session(s.tag), "sp")
        await pipe.execute()
        # Linked threads learn the age and level of this (newest) login.
        await self.links.refresh_login_level(keys.person_threads(person), person, s.acr, s.age)

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
