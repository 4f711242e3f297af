"""Send to journal: the web process's part of the nurse flow.

The nurse's browser seals the *note part* (summary, selected messages, nurse name, MsgId,
conversation) to the EPJ gateway key; the server cannot read it. The browser does not know
the youth's FNR; the server holds it sealed under its person key. So the server opens the pid
for this one step, seals it (with the same MsgId and conversation) to the gateway key as the
*person part*, and queues both ciphertexts. Only the ``epj`` worker opens them (and checks
that they belong together). Redis and the logs never see the note or the FNR in clear.

    nurse frame  journal {conversation, msg_id, sealed_note}
    reply        journal_status {conversation, msg_id, status: "queued", at}
    live         journal_status {conversation, msg_id, status, code, text}   (from the worker)

Keys: ``c:{cid}:journal`` (list of JSON {m: MsgId, at}; same hash tag and lifetime as the
conversation), so a dashboard opening the thread later sees its notes' statuses again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from base64 import b64decode
from typing import TYPE_CHECKING, Protocol, cast

from nacl.public import PublicKey
from redis.exceptions import RedisError

from chat.errors import ClientError, NotAuthorized
from chat.protocol import commands as c
from chat.protocol import events
from chat.protocol.events import encode
from identity_bridge.epj.outbox import STATUS_CHANNEL, Status, status_key
from identity_bridge.epj.producer import enqueue_note
from identity_bridge.epj.sealed import seal_person
from identity_bridge.personseal import PersonSealer

from . import keys
from .config import EpjLink

if TYPE_CHECKING:
    from chat.domain.staff import Nurse
    from chat.web.runtime import Runtime

log = logging.getLogger("helseprat.journal")

STATUSES = frozenset(s.value for s in Status)


class JournalUnavailable(ClientError):
    code = "journal_unavailable"
    message = "This service has no journal (EPJ) connection."


class JournalNotVerified(ClientError):
    code = "journal_not_verified"
    message = "Only threads where the youth logged in with ID-porten can go to the journal."


def journal_key(cid: str) -> str:
    return f"c:{{{cid}}}:journal"


class StatusWatcher(Protocol):
    def journal_status(self, frame: str) -> None: ...


def status_frame(cid: str, msg_id: str, status: str, code: str = "", text: str = "",
                 at: int = 0) -> str:
    return encode(events.JournalStatus(conversation=cid, msg_id=msg_id, status=status, code=code,
                                       text=text, at=at or None))


class JournalLink:
    """One per web process when ``[epj]`` is configured (built by the bridge's start)."""

    def __init__(self, rt: Runtime, link: EpjLink, person_key: bytes) -> None:
        self.rt = rt
        self.link = link
        self.gateway = PublicKey(link.gateway_public_key)
        self.sealer = PersonSealer(person_key)
        self._watchers: dict[str, set[StatusWatcher]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.rt.hub.listen(STATUS_CHANNEL, self)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- the nurse's frame ------------------------------------------------------------------
    async def send(self, nurse: Nurse, cmd: c.Journal) -> str:
        rt = self.rt
        conv = await rt.actions.conversation_for(nurse, cmd.conversation)
        if conv.nurse != nurse.username:
            raise NotAuthorized("Only the nurse who has the conversation can send it to the "
                                "journal.")
        if not self.link.enabled_for(conv.service):
            raise JournalUnavailable()
        redis = rt.redis
        existing = cast(list[str | None], await redis.hmget(  # type: ignore[misc]
            status_key(cmd.msg_id), ["status", "conversation", "code", "text"]))
        if existing[0] is not None:  # the same note again (a resend after a reconnect)
            if existing[1] != conv.id:
                raise NotAuthorized()
            return status_frame(conv.id, cmd.msg_id, existing[0], existing[2] or "",
                                existing[3] or "")
        ptag = conv.person_tag
        sealed_pid = cast(str | None, await redis.hget(keys.person(ptag), "pid")) if ptag \
            else None
        if not conv.acr or not ptag or not sealed_pid:
            raise JournalNotVerified()
        pid = self.sealer.open(b64decode(sealed_pid), ptag)
        person = seal_person(pid, msg_id=cmd.msg_id, conversation=conv.id,
                             gateway_public_key=self.gateway)
        del pid
        now = int(rt.clock.now())
        await enqueue_note(redis, sealed=cmd.sealed_note, sealed_person=person,
                           conversation_id=conv.id, service_id=conv.service,
                           nurse_id=nurse.username, msg_id=cmd.msg_id)
        jkey = journal_key(conv.id)
        await redis.rpush(jkey, json.dumps({"m": cmd.msg_id, "at": now}))  # type: ignore[misc]
        ttl = await rt.actions.links.expires_in(conv.id)
        if ttl:
            await redis.expire(jkey, ttl)
        await rt.actions.dashboard.audit.record(conv.service, nurse.username, "journal",
                                                conv.id, cmd.msg_id)
        log.info("journal note queued msg_id=%s", cmd.msg_id)
        return status_frame(conv.id, cmd.msg_id, Status.QUEUED.value, at=now)

    async def frames_for(self, cid: str) -> list[str]:
        """The statuses of a thread's notes, for a dashboard opening it."""
        out = []
        key = journal_key(cid)  # read by every dashboard opening a thread: coalesced
        for raw in cast(list[str], await self.rt.store.reads.call(lambda p: p.lrange(key, 0, -1))):
            try:
                item = json.loads(raw)
                msg_id, at = str(item["m"]), int(item.get("at", 0))
            except (ValueError, KeyError, TypeError):
                continue
            status, code, text = cast(list[str | None], await self.rt.redis.hmget(
                status_key(msg_id), ["status", "code", "text"]))  # type: ignore[misc]
            if status in STATUSES:
                out.append(status_frame(cid, msg_id, str(status), code or "", text or "", at))
        return out

    # -- live status (from the worker, through the hub's one pub/sub connection) -------------
    def watch(self, cid: str, watcher: StatusWatcher) -> None:
        self._watchers.setdefault(cid, set()).add(watcher)

    def unwatch(self, cid: str, watcher: StatusWatcher) -> None:
        ws = self._watchers.get(cid)
        if ws is not None:
            ws.discard(watcher)
            if not ws:
                del self._watchers[cid]

    def message(self, data: str) -> None:
        try:
            change = json.loads(data)
            cid, msg_id, status = change["conversation"], change["msg_id"], change["status"]
        except (ValueError, KeyError, TypeError):
            return
        watchers = self._watchers.get(cid) if isinstance(cid, str) else None
        if not watchers or status not in STATUSES or not isinstance(msg_id, str):
            return
        frame = status_frame(cid, msg_id, status, str(change.get("code") or ""),
                             str(change.get("text") or ""))
        for w in tuple(watchers):
            w.journal_status(frame)

    def resync(self) -> None:
        """The pub/sub connection came back: changes may have been missed; re-read them."""
        task = asyncio.create_task(self._resend_all())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resend_all(self) -> None:
        for cid, watchers in list(self._watchers.items()):
            try:
                statuses = await self.frames_for(cid)
            except (RedisError, OSError):
                return
            for frame in statuses:
                for w in tuple(watchers):
                    w.journal_status(frame)
