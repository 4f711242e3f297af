"""A person's appointments in Redis, under the sealed-person scheme (identity_bridge/personseal.py).

- ``yp:{tag}:a`` (set): the person's appointment ids (keyed ids, not the EPJ's UIDs); lives
  as long as the latest appointment;
- ``yp:{tag}:a:{aid}`` (string): the record (appointment_record.py) sealed under the person
  key with ``tag/aid`` as AD; expires at the appointment's end plus the retention;
- ``epj:in:{msgid}`` (string, ``SEEN_TTL``): what we answered an incoming MsgId (a resend
  gets the same answer and is stored once);
- ``epj:cancel:{msgid}`` (string, ``SEEN_TTL``): ``tag ref`` of what our request is about:
  an appointment id (a cancellation) or ``w:<wish id>`` (a wish);
- ``yp:{tag}:w`` (set) and ``yp:{tag}:w:{wid}`` (string, sealed like a record): the youth's
  wishes for an appointment (wish.py), ``WISH_TTL_DAYS``;
- ``appt:outbox`` (stream, group ``epj``): the youth's cancellations for the worker to send:
  ``msg_id``, ``tag``, ``aid`` and the reason sealed under the person key;
- ``push:due`` (chat's push queue): ``r:{tag}:{aid}.24h`` and ``.2h``, due 24 and 2 hours
  before the start while the appointment is booked (appointment_record.reminder_times);
- ``appt:changed`` (pub/sub): the ``tag`` of a person whose appointments changed;
- ``appt:proposal`` (pub/sub): ``{conversation, proposal_id, status}`` whenever a nurse's
  proposal (proposal.py) changes, for the dashboards that have its thread open (ids and the
  state only: the time and place stay sealed).

``tag`` is the person's lookup tag (HMAC of the pid), the only thing in clear: the same tag
the web process files the person's login under (``yp:{tag}``, identity_bridge/web/keys.py),
so a youth finds the appointments that arrived before their first login too.
Every key of a person has the hash tag ``{tag}``, so one person's keys are one slot.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta

import redis.asyncio as aioredis

from chat.clock import SystemClock
from chat.store.names import reminder_delivery
from chat.store.push import PushStore
from identity_bridge.personseal import PersonSealer

from .appointment_record import AppointmentRecord, reminder_times
from .proposal import UID_SUFFIX
from .wish import WISH_TTL_DAYS, Wish

SEEN_TTL = 35 * 86_400
CHANGED_CHANNEL = "appt:changed"
PROPOSAL_CHANNEL = "appt:proposal"
CANCEL_STREAM = "appt:outbox"
CANCEL_GROUP = "epj"


def person_hash(tag: str) -> str:
    """The web process's person hash (identity_bridge/web/keys.py ``person``)."""
    return f"yp:{{{tag}}}"


def index_key(tag: str) -> str:
    return f"yp:{{{tag}}}:a"


def record_key(tag: str, aid: str) -> str:
    return f"yp:{{{tag}}}:a:{aid}"


def seen_key(msg_id: str) -> str:
    return f"epj:in:{{{msg_id}}}"


def cancel_key(msg_id: str) -> str:
    return f"epj:cancel:{{{msg_id}}}"


def _s(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class AppointmentStore:
    redis: aioredis.Redis
    sealer: PersonSealer
    retention: timedelta

    def tag(self, pid: str) -> str:
        return self.sealer.tag(pid)

    def appointment_id(self, epj_her: int, uid: str) -> str:
        return self.sealer.record_id(f"appointment/{epj_her}/{uid}")

    # -- incoming messages, once per MsgId -------------------------------------------------
    async def seen(self, msg_id: str) -> str | None:
        return _s(await self.redis.get(seen_key(msg_id)))

    async def remember(self, msg_id: str, answer: str) -> None:
        await self.redis.set(seen_key(msg_id), answer, ex=SEEN_TTL)

    # -- records ----------------------------------------------------------------------------
    async def get(self, tag: str, aid: str) -> AppointmentRecord | None:
        raw = await self.redis.get(record_key(tag, aid))
        if raw is None:
            return None
        return AppointmentRecord.from_json(self.sealer.open(base64.b64decode(raw), f"{tag}/{aid}"))

    async def put(self, tag: str, record: AppointmentRecord, *, keep_ttl: bool = False) -> None:
        """Write the record; its lifetime is its end plus the retention, or (``keep_ttl``,
        the web process changing a record the worker wrote) the one it has."""
        sealed = base64.b64encode(self.sealer.seal(record.to_json(), f"{tag}/{record.aid}"))
        pipe = self.redis.pipeline(transaction=True)
        if keep_ttl:
            pipe.set(record_key(tag, record.aid), sealed, keepttl=True, xx=True)
        else:
            expires = int((record.end + self.retention).timestamp())
            pipe.set(record_key(tag, record.aid), sealed)
            pipe.expireat(record_key(tag, record.aid), expires)
            pipe.sadd(index_key(tag), record.aid)
            pipe.expireat(index_key(tag), expires, gt=True)
            pipe.expireat(index_key(tag), expires, nx=True)
        await pipe.execute()
        await self._remind(tag, record)
        await self.redis.publish(CHANGED_CHANNEL, tag)
        if record.conversation:
            await self.redis.publish(PROPOSAL_CHANNEL, json.dumps({
                "conversation": record.conversation,
                "proposal_id": record.uid.removesuffix(UID_SUFFIX),
                "status": record.state.value}))

    async def _remind(self, tag: str, record: AppointmentRecord) -> None:
        """The record's reminders in the web processes' push queue (chat/push/sender.py
        sends them, once, under the jobs runner's lease): moved with the appointment, taken
        out when it is cancelled."""
        push = PushStore(self.redis, SystemClock())
        for kind, at in reminder_times(record).items():
            delivery = reminder_delivery(tag, f"{record.aid}.{kind}")
            if at is None:
                await push.done(delivery)
            else:
                await push.schedule(delivery, at.timestamp())

    # -- the youth's cancellations, on their way to the worker ------------------------------
    async def queue_cancel(self, tag: str, aid: str, msg_id: str, reason: str, *,
                           kind: str = "cancel") -> None:
        """The youth's ``AvbestillAvtale`` (or, ``kind="book"``, the booking of a proposal
        they accepted): the reason sealed like the record (bound to the MsgId), for the
        worker to send."""
        sealed = base64.b64encode(self.sealer.seal(reason, f"cancel/{msg_id}")).decode()
        await self.redis.xadd(CANCEL_STREAM, {"kind": kind, "msg_id": msg_id, "tag": tag,
                                              "aid": aid, "reason": sealed})

    def open_reason(self, msg_id: str, sealed: str) -> str:
        return self.sealer.open(base64.b64decode(sealed), f"cancel/{msg_id}")

    async def person_ident(self, tag: str) -> str | None:
        """The pid the web process sealed at the person's first confirmed login."""
        raw = _s(await self.redis.hget(person_hash(tag), "pid"))  # type: ignore[misc]
        return self.sealer.open(base64.b64decode(raw), tag) if raw else None

    async def list(self, tag: str) -> list[AppointmentRecord]:
        """All of a person's appointments still kept, soonest first."""
        aids = sorted(_s(a) or "" for a in await self.redis.smembers(index_key(tag)))  # type: ignore[misc]
        if not aids:
            return []
        raws = await self.redis.mget([record_key(tag, aid) for aid in aids])
        out: list[AppointmentRecord] = []
        gone: list[str] = []
        for aid, raw in zip(aids, raws, strict=True):
            if raw is None:
                gone.append(aid)  # expired: past plus the retention
                continue
            out.append(AppointmentRecord.from_json(
                self.sealer.open(base64.b64decode(raw), f"{tag}/{aid}")))
        if gone:
            await self.redis.srem(index_key(tag), *gone)  # type: ignore[misc]
        return sorted(out, key=lambda r: r.start)

    # -- the youth's cancellation requests --------------------------------------------------
    async def remember_request(self, msg_id: str, tag: str, ref: str) -> None:
        await self.redis.set(cancel_key(msg_id), f"{tag} {ref}", ex=SEEN_TTL)

    async def request_target(self, msg_id: str) -> tuple[str, str] | None:
        raw = _s(await self.redis.get(cancel_key(msg_id)))
        if not raw or " " not in raw:
            return None
        tag, aid = raw.split(" ", 1)
        return tag, aid



class WishStore:
    """The youth's wishes, beside the appointments and sealed the same way."""

    def __init__(self, store: AppointmentStore) -> None:
        self.store = store
        self.redis = store.redis

    async def put(self, tag: str, wish: Wish) -> None:
        sealed = base64.b64encode(self.store.sealer.seal(wish.to_json(), f"{tag}/w/{wish.wid}"))
        ttl = WISH_TTL_DAYS * 86_400
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(wish_key(tag, wish.wid), sealed, ex=ttl)
        pipe.sadd(wish_index(tag), wish.wid)
        pipe.expire(wish_index(tag), ttl)
        await pipe.execute()
        await self.redis.publish(CHANGED_CHANNEL, tag)

    async def get(self, tag: str, wid: str) -> Wish | None:
        raw = await self.redis.get(wish_key(tag, wid))
        if raw is None:
            return None
        return Wish.from_json(self.store.sealer.open(base64.b64decode(raw), f"{tag}/w/{wid}"))

    async def list(self, tag: str) -> list[Wish]:
        out = []
        for wid in sorted(_s(w) or "" for w in await self.redis.smembers(wish_index(tag))):  # type: ignore[misc]
            wish = await self.get(tag, wid)
            if wish is not None:
                out.append(wish)
        return sorted(out, key=lambda w: w.created, reverse=True)

    async def queue(self, tag: str, wish: Wish, *, kind: str = "wish") -> None:
        """The wish (``ØnskeReserver``) or, ``kind="wish_withdraw"``, its withdrawal
        (``ØnskeAvbestill``, the wish's current ``msg_id``; no words), for the worker."""
        text = wish.text if kind == "wish" else ""
        sealed = base64.b64encode(
            self.store.sealer.seal(text, f"cancel/{wish.msg_id}")).decode()
        await self.redis.xadd(CANCEL_STREAM, {"kind": kind, "msg_id": wish.msg_id, "tag": tag,
                                              "aid": f"w:{wish.wid}", "reason": sealed})


def wish_index(tag: str) -> str:
    return f"yp:{{{tag}}}:w"


def wish_key(tag: str, wid: str) -> str:
    return f"yp:{{{tag}}}:w:{wid}"
