"""Putting a sealed journal note on the outbox (called by the web process)."""

from __future__ import annotations

import json
import uuid

import redis.asyncio as aioredis

from .outbox import STATUS_CHANNEL, STREAM, OutboxEntry, Status, status_key, thread_key


async def enqueue_note(
    redis: aioredis.Redis,
    *,
    sealed: str,
    conversation_id: str,
    service_id: str,
    nurse_id: str,
    msg_id: str | None = None,
    sealed_person: str | None = None,
) -> str:
    """Queue one note; returns its MsgId (the idempotency key all the way to the EPJ).

    ``sealed_person``: the person part of a version 2 note (see sealed.py), when ``sealed``
    is the browser's note part.

    The thread hash gives ConversationRef: a later note in the same conversation refers to
    the previous MsgId (parent) and the first MsgId (conversation). Each step touches one key,
    so this works on Redis Cluster; the status hash is written before the stream entry so a
    worker never sees an entry without its status.
    """
    msg_id = msg_id or str(uuid.uuid4())
    tkey = thread_key(conversation_id)
    first, last = await redis.hmget(tkey, ["first", "last"])  # type: ignore[misc]
    entry = OutboxEntry(
        msg_id=msg_id,
        conversation_id=conversation_id,
        service_id=service_id,
        nurse_id=nurse_id,
        sealed=sealed,
        ref_parent=_text(last),
        ref_conversation=_text(first),
        sealed_person=sealed_person,
    )
    await redis.hsetnx(tkey, "first", msg_id)  # type: ignore[misc]
    await redis.hset(tkey, "last", msg_id)  # type: ignore[misc]
    await redis.hset(  # type: ignore[misc]
        status_key(msg_id),
        mapping={"status": Status.QUEUED.value, "conversation": conversation_id,
                 "service": service_id, "nurse": nurse_id, "attempts": 0},
    )
    await redis.xadd(STREAM, entry.to_fields())  # type: ignore[arg-type]
    await redis.publish(STATUS_CHANNEL, json.dumps(
        {"msg_id": msg_id, "status": Status.QUEUED.value, "conversation": conversation_id,
         "service": service_id}))
    return msg_id


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value
