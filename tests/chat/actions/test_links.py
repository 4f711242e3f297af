"""The identity bridge's way into a conversation (chat/actions/links.py)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from chat.actions.conversations import Actions
from chat.domain.conversation import State
from chat.errors import BadToken, ConversationClosed
from chat.store import names as keys
from tests.chat.conftest import NURSE_A
from tests.chat.protocol import reference_frames as frames


async def test_link_then_the_token_stops_working(actions: Actions, r: aioredis.Redis) -> None:
    s = await actions.start("core-a", "", 0, None, "client")
    links = actions.links
    with pytest.raises(BadToken):
        await links.check_anonymous(s.conversation, "not-the-token")
    await links.register_youth_key(s.conversation, s.token, "pk-1")
    await links.register_youth_key(s.conversation, s.token, "pk-2")  # first write wins
    assert (await links.check_anonymous(s.conversation, s.token)).youth_pk == "pk-1"
    await r.hset("test:session", "lc", s.conversation)

    def state(st: State) -> str:
        return frames.frame("state", conversation=s.conversation, state=st.value)

    conv = await links.link_person(s.conversation, s.token, "person-1", "idporten-loa-high",
                                   "15", "pk-1", "test:threads", "test:session", 3600, state)
    assert (conv.person_tag, conv.acr, conv.age, conv.token_hash) == (
        "person-1", "idporten-loa-high", "15", "")
    assert await r.smembers("test:threads") == {s.conversation}
    assert not await r.hexists("test:session", "lc")
    with pytest.raises(BadToken):
        await links.check_anonymous(s.conversation, s.token)
    assert (await actions.authenticate_person(s.conversation, "person-1")).state == State.WAITING
    await links.refresh_login_level("test:threads", "person-1", "idporten-loa-substantial", "16")
    assert await r.hmget(keys.meta(s.conversation), ["acr", "age"]) == [
        "idporten-loa-substantial", "16"]


async def test_a_closed_conversation_cannot_be_linked(actions: Actions) -> None:
    s = await actions.start("core-a", "", 0, None, "client")
    await actions.claim(NURSE_A, s.conversation)
    await actions.close(NURSE_A, s.conversation, "other")
    with pytest.raises(ConversationClosed):
        await actions.links.check_anonymous(s.conversation, s.token)
