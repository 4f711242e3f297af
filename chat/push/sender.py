"""The sender: a periodic job (chat/jobs/runner.py, so one process sends however many web
processes there are) that takes the due deliveries and sends each with pywebpush's async path.

A delivery is ``y:<conversation>`` (tell the youth a nurse answered),
``n:<service>:<username>`` (tell a nurse a youth waits) or ``r:<owner>:<ref>`` (remind a
logged-in person of an appointment; the identity bridge schedules and unschedules these).
Nothing here is on the path of a chat message: a push service that refuses, throttles or hangs
costs this job a try, never a message.
Each outcome is one log line with no endpoint, no key and no conversation id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from pywebpush import WebPusher

from chat.clock import Clock
from chat.config import Config
from chat.domain.conversation import State
from chat.metrics import registry as metrics
from chat.push import delivery as rules
from chat.push.delivery import PushSettings
from chat.push.keys import PushKeys, Unsealable
from chat.push.subscription import Subscription, origin_allowed
from chat.store.conversations import Store
from chat.store.push import PushStore

log = logging.getLogger("helseprat.push")

BATCH = 50  # deliveries per round
CONCURRENT = 10  # sends in flight at once


@dataclass(frozen=True)
class Target:
    """One delivery resolved: whom, what kind, the subscription and the service it is about."""

    kind: str  # "youth" | "nurse" | "reminder"
    name: str  # what the per-hour cap and the Topic are about: the conversation or the nurse
    ad: str  # the associated data the subscription was sealed with
    service: str


@dataclass(frozen=True)
class Outcome:
    status: int  # the HTTP status, or 0: timed out / no connection
    retry_after: str | None = None


def parse_delivery(delivery: str) -> tuple[str, str, str] | None:
    """(kind, conversation or username, service) from a delivery id; None if malformed."""
    if delivery.startswith("y:") and len(delivery) > 2:
        return "youth", delivery[2:], ""
    parts = delivery.split(":", 2)
    if len(parts) == 3 and parts[0] == "r" and parts[1] and parts[2]:
        return "reminder", parts[1], parts[2]
    if len(parts) == 3 and parts[0] == "n" and parts[1] and parts[2]:
        return "nurse", parts[2], parts[1]
    return None


class PushSender:
    name = "push"
    interval = 1.0

    def __init__(self, config: Config, keys: PushKeys, settings: PushSettings,
                 store: PushStore, conversations: Store, clock: Clock) -> None:
        self.config = config
        self.keys = keys
        self.settings = settings
        self.store = store
        self.conversations = conversations
        self.clock = clock

    async def run(self) -> None:
        items = await self.store.due(self.clock.now(), BATCH)
        if not items:
            return
        gate = asyncio.Semaphore(CONCURRENT)
        async with aiohttp.ClientSession() as session:
            async def one(delivery: str) -> None:
                async with gate:
                    try:
                        await self.deliver(session, delivery)
                    except Exception as exc:  # one bad delivery never stalls the others
                        log.warning("push error", extra={"push": "error",
                                                         "why": type(exc).__name__})
                        await self.failed(delivery)
            await asyncio.gather(*(one(d) for d in items))

    async def failed(self, delivery: str) -> None:
        """Try a delivery that went wrong here again later; after ``MAX_TRIES``, drop it."""
        tries = await self.store.tries(delivery) + 1
        wait = rules.backoff(tries)
        if wait is None:
            await self.store.done(delivery)
        else:
            await self.store.postpone(delivery, self.clock.now() + wait, tries)

    async def deliver(self, session: aiohttp.ClientSession, delivery: str) -> None:
        parsed = parse_delivery(delivery)
        target = None if parsed is None else await self._target(*parsed)
        if target is None:
            await self.store.done(delivery)
            return
        sealed = await self._sealed(target)
        sub = self._open(sealed, target) if sealed is not None else None
        if sub is None:
            await self.store.done(delivery)
            await self._forget(target)
            outcome("dropped", target, "no subscription")
            return
        if await self._present(target):
            await self.store.done(delivery)
            outcome("skipped", target, "online")
            return
        now = self.clock.now()
        service = self.config.service(target.service)
        quiet_end = rules.after_quiet(now, service) if service is not None else now
        if quiet_end > now:
            await self.store.postpone(delivery, quiet_end)
            outcome("postponed", target, "quiet hours")
            return
        hour = int(now // 3600)
        if await self.store.sent(target.name, hour) >= self.settings.per_hour:
            await self.store.postpone(delivery, rules.next_hour(now))
            outcome("postponed", target, "hourly cap")
            return
        result = await self.send(session, sub, target)
        await self._settle(delivery, target, result, now)

    async def _target(self, kind: str, name: str, service: str) -> Target | None:
        if kind == "reminder":  # name: the owner; "service": the reminder's own reference
            return Target("reminder", f"r:{service}", name, "")
        if kind == "nurse":
            return Target("nurse", f"n:{name}", name, service)
        conv = await self.conversations.get(name)
        if conv is None or conv.state == State.CLOSED:
            await self.store.forget_youth(name)
            return None
        return Target("youth", f"c:{name}", name, conv.service)

    async def _sealed(self, target: Target) -> str | None:
        if target.kind == "youth":
            return await self.store.youth(target.ad)
        if target.kind == "reminder":
            return await self.store.owner(target.ad)
        return await self.store.nurse(target.ad)

    def _open(self, sealed: str, target: Target) -> Subscription | None:
        try:
            sub = Subscription.from_bytes(self.keys.open(sealed, target.ad))
        except (Unsealable, ValueError, KeyError, TypeError):
            return None
        # The allowed origins may have narrowed since it was stored.
        return sub if origin_allowed(sub.endpoint, self.settings.extra_origins) else None

    async def _forget(self, target: Target) -> None:
        if target.kind == "youth":
            await self.store.forget_youth(target.ad)
        elif target.kind == "reminder":
            await self.store.forget_owner(target.ad)
        else:
            await self.store.forget_nurse(target.ad)

    async def _present(self, target: Target) -> bool:
        if target.kind == "reminder":
            return False  # a reminder is due at its time, open tab or not
        if target.kind == "youth":
            return await self.store.youth_online(target.ad, target.service)
        services = tuple(s.id for s in self.config.services_of(target.ad))
        return await self.store.dashboard_open(target.ad, services)

    async def send(self, session: aiohttp.ClientSession, sub: Subscription,
                   target: Target) -> Outcome:
        """One POST to the push service, at most ``TIMEOUT_S``; never raises."""
        parts = urlsplit(sub.endpoint)
        claims: dict[str, str | int] = {"sub": self.settings.subject,
                                        "aud": f"{parts.scheme}://{parts.netloc}",
                                        "exp": int(time.time()) + 12 * 3600}
        headers = {**rules.headers(target.kind, self.keys.topic(target.name)),
                   **self.keys.vapid.sign(claims)}
        data = rules.payload(target.kind, sub.lang, sub.tag)
        pusher = WebPusher(sub.as_info(), aiohttp_session=session)
        try:
            async with asyncio.timeout(rules.TIMEOUT_S):
                resp = await pusher.send_async(
                    data, headers, ttl=self.settings.ttl,
                    timeout=aiohttp.ClientTimeout(total=rules.TIMEOUT_S))
        except (TimeoutError, aiohttp.ClientError, OSError):
            return Outcome(0)
        assert not isinstance(resp, str)
        return Outcome(resp.status, resp.headers.get("Retry-After"))

    async def _settle(self, delivery: str, target: Target, result: Outcome, now: float) -> None:
        status = result.status
        if 200 <= status < 300:
            await self.store.done(delivery)
            await self.store.count_sent(target.name, int(now // 3600))
            outcome("sent", target, str(status))
        elif status in (404, 410):
            await self.store.done(delivery)
            await self._forget(target)
            outcome("gone", target, str(status))
        elif status == 0 or status == 429 or status >= 500:
            tries = await self.store.tries(delivery) + 1
            wait = rules.backoff(tries, rules.retry_after(result.retry_after, time.time()))
            if wait is None:
                await self.store.done(delivery)
                outcome("given_up", target, str(status or "timeout"), tries)
            else:
                await self.store.postpone(delivery, now + wait, tries)
                outcome("retry", target, str(status or "timeout"), tries)
        else:
            await self.store.done(delivery)
            outcome("refused", target, str(status))


def outcome(what: str, target: Target, why: str, tries: int = 0) -> None:
    """One line per outcome: what happened and why, the kind of notice, and no one's id."""
    metrics.push_outcome(what)
    log.info("push %s", what, extra={"push": what, "kind": target.kind, "why": why,
                                     "tries": tries})
