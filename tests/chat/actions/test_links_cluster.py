"""The identity bridge's link on a Redis Cluster, where the conversation, the person's thread
set and the login session are on three slots: the thread set first, then the conversation (the
authority), then the session's pending link. Stopped after any step, nothing is linked that
the thread set does not name, and the link either is done or can be made again."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from chat.actions.conversations import Actions
from chat.actions.links import Links
from chat.domain.conversation import State
from chat.errors import BadToken
from chat.store import names as keys
from tests.chat.protocol import reference_frames as frames
from tests.chat.store.dying import Died, dying_store

pytestmark = pytest.mark.cluster

THREADS, SESSION = "yp:{person-1}:t", "ys:session-1"


def frame(cid: str) -> object:
    return lambda st: frames.frame("state", conversation=cid, state=st.value)


async def link(links: Links, cid: str, token: str) -> object:
    return await links.link_person(cid, token, "person-1", "idporten-loa-high", "15", "pk-1",
                                   THREADS, SESSION, 3600, frame(cid))  # type: ignore[arg-type]


async def test_a_link_stopped_after_any_step_is_named_by_the_thread_set_or_made_again(
    cluster_actions: Actions, cluster_r: aioredis.Redis,
) -> None:
    r, clock = cluster_r, cluster_actions.clock
    for budget in range(10):
        await r.flushall()
        s = await cluster_actions.start("core-a", "", 0, None, "client")
        cid = s.conversation
        await r.hset(SESSION, "lc", cid)
        dying = Links(cluster_actions.config, dying_store(r, clock, budget), clock)
        try:
            await link(dying, cid, s.token)
        except Died:
            pass
        else:
            break
        linked = await r.hget(keys.meta(cid), "ptag") == "person-1"
        listed = await r.sismember(THREADS, cid)
        assert listed or not linked, f"linked but not a thread, after {budget} steps"
        if linked:  # only the session's pending link was lost: the token is retired
            with pytest.raises(BadToken):
                await link(cluster_actions.links, cid, s.token)
        else:  # nothing is linked: the youth's next try links it
            await link(cluster_actions.links, cid, s.token)
            assert not await r.hexists(SESSION, "lc")
        assert await r.smembers(THREADS) == {cid}
        assert await r.hget(keys.meta(cid), "ptag") == "person-1"
    else:
        pytest.fail("the link never completed")
    assert budget == 3  # the thread set, the conversation, the session
    assert await r.smembers(THREADS) == {cid} and not await r.hexists(SESSION, "lc")


async def test_a_refused_link_takes_back_the_thread_it_added_only(
    cluster_actions: Actions, cluster_r: aioredis.Redis,
) -> None:
    store = cluster_actions.store
    mine = await cluster_actions.start("core-a", "", 0, None, "client")
    other = await cluster_actions.start("core-a", "", 0, None, "client")
    await cluster_r.sadd(THREADS, mine.conversation)  # already one of the person's threads
    for cid in (mine.conversation, other.conversation):  # seen as active: it is waiting
        reply = await store.link(cid, THREADS, SESSION, "person-1", "idporten-loa-high", "15",
                                 "pk-1", 0, 3600, State.ACTIVE, "{}")
        assert (reply.status, reply.state) == (0, State.WAITING)
    assert await cluster_r.smembers(THREADS) == {mine.conversation}
