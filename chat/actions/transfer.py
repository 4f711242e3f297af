"""Transfer an active conversation to a named colleague or to another service's queue.

If the receiving service has another team key than the one the conversation key is sealed to,
the sending nurse's browser re-seals the conversation key to the receiving team (it opens the
bundle with its own team key and seals CK ‖ youth signing key to the target's verified
statement) and sends the new bundle with the transfer; the server never sees CK. The server
stores the new bundle and epoch, remembers the earlier (service, epoch) pairs so the receiver
can verify the history, and moves the conversation in one atomic step.

The internal note travels sealed with the conversation key like a message, but is stored in the
conversation's nurse-only notes stream, which no youth feed ever reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat.errors import CapacityReached, ClientError, KeyBundleRequired, NotAuthorized
from chat.protocol import frames
from chat.store import names as keys

if TYPE_CHECKING:
    from chat.actions.conversations import Actions, Conversation, Nurse


class BadTransfer(ClientError):
    code = "bad_transfer"
    message = "Choose a colleague on the receiving service, or another service."


# KEYS: meta. ARGV: from nurse, to nurse ('' = waiting in the queue), to service, key bundle
# ('' = keep), epoch, now, channel, state frame, history entry ('' = none).
# Returns 1 moved, 0 not active, -1 not this nurse's, -2 no such conversation.
_TRANSFER = """
local st = redis.call('HGET', KEYS[1], 'st')
if not st then return -2 end
if st ~= 'active' then return 0 end
if redis.call('HGET', KEYS[1], 'nurse') ~= ARGV[1] then return -1 end
if ARGV[2] == '' then
  redis.call('HSET', KEYS[1], 'st', 'waiting', 'nurse', '', 'queued', ARGV[6])
else
  redis.call('HSET', KEYS[1], 'nurse', ARGV[2], 'claimed_at', ARGV[6])
end
redis.call('HSET', KEYS[1], 'svc', ARGV[3], 'last', ARGV[6])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'kb', ARGV[4], 'ep', ARGV[5]) end
if ARGV[9] ~= '' then
  local h = redis.call('HGET', KEYS[1], 'hist')
  if h and h ~= '' then h = h .. ',' .. ARGV[9] else h = ARGV[9] end
  redis.call('HSET', KEYS[1], 'hist', h)
end
redis.call('PUBLISH', ARGV[7], '0 ' .. ARGV[8])
return 1
"""


def parse_history(raw: str) -> list[dict[str, object]]:
    """The "svc:epoch,svc:epoch" field as a list the receiving browser can verify against."""
    out: list[dict[str, object]] = []
    for part in raw.split(","):
        svc, _, epoch = part.partition(":")
        if svc and epoch.isdigit():
            out.append({"service": svc, "epoch": int(epoch)})
    return out


async def transfer(
    actions: Actions, nurse: Nurse, cid: str, to_service: str, to_nurse: str,
    key_bundle: str, epoch: int, note: str,
) -> Conversation:
    from chat.actions.conversations import _conversation  # the actions layer imports us

    conv = await actions.conversation_for(nurse, cid)
    if conv.state != "active" or conv.nurse != nurse.username:
        raise NotAuthorized("Only the nurse who has the conversation can transfer it.")
    target = actions._service(to_service or conv.service)
    if to_nurse:
        if to_nurse not in target.members or to_nurse == nurse.username:
            raise BadTransfer()
    elif target.id == conv.service:
        raise BadTransfer("To put it back in the queue, release it.")
    old_epoch = conv.epoch
    current = await actions.teamkeys.current_epoch(target.id)
    resealed = False
    if key_bundle:
        await actions._check_bundle(target.id, key_bundle, epoch)
        resealed = True
    elif target.id != conv.service and current is not None:
        # The receiving team cannot open the old bundle: the sender must re-seal it.
        raise KeyBundleRequired("Re-seal the conversation key to the receiving team.")
    dash = actions.dashboard
    if to_nurse and not await actions.store.reserve_slot(to_nurse, cid, target.max_chats_per_nurse):
        raise CapacityReached("The colleague has as many open conversations as allowed.")
    names = await dash.display_names({to_nurse} if to_nurse else set())
    now = int(actions.clock.now())
    extra: dict[str, object] = {"service": target.id, "transferred": True}
    if to_nurse:
        extra["nurse"] = names.get(to_nurse, to_nurse)
    state = frames.frame("state", conversation=cid, state="active" if to_nurse else "waiting",
                         **extra)
    hist = f"{conv.service}:{old_epoch}" if (resealed or target.id != conv.service) else ""
    script = actions.store.redis.register_script(_TRANSFER)
    r = int(await script(keys=[keys.meta(cid)], args=[
        nurse.username, to_nurse, target.id, key_bundle, epoch if key_bundle else 0, now,
        keys.conversation_channel(cid), state, hist]))
    if r != 1:
        if to_nurse:
            await actions.store.free_slot(to_nurse, cid)
        raise NotAuthorized("Only the nurse who has the conversation can transfer it.")
    await actions.store.free_slot(nurse.username, cid)
    redis = actions.store.redis
    pipe = redis.pipeline(transaction=False)
    pipe.zrem(keys.active(conv.service), cid)
    if to_nurse:
        pipe.zadd(keys.active(target.id), {cid: now})
    else:
        pipe.zadd(keys.queue(target.id), {cid: now})
    if conv.flag and target.id != conv.service:
        pipe.hdel(keys.flags(conv.service), cid)
        pipe.hset(keys.flags(target.id), cid, conv.flag)
    await pipe.execute()
    if note:
        await dash.add_note(conv, nurse, note)
    if to_nurse:
        pipe = redis.pipeline(transaction=False)
        pipe.rpush(keys.nurse_inbox(to_nurse), cid)
        pipe.expire(keys.nurse_inbox(to_nurse), 86_400)
        await pipe.execute()
    detail = f"to {to_nurse or 'queue'} in {target.id}"
    if resealed:
        detail += f"; conversation key re-sealed by the sender, epoch {conv.service}:{old_epoch}" \
                  f" -> {target.id}:{epoch}"
    if note:
        detail += "; sealed internal note"
    await dash.audit.record(conv.service, nurse.username, "transfer", cid, detail)
    if target.id != conv.service:
        await dash.audit.record(target.id, nurse.username, "transfer", cid,
                                f"from {conv.service}; " + detail)
    await dash.count(conv.service, "transfers")
    await dash._publish_team(conv.service)
    if target.id != conv.service:
        await dash._publish_team(target.id)
    return _conversation(cid, await actions.store.meta(cid))
