"""What the identity bridge may do to a chat conversation: check the anonymous token, register
the youth's signing key, link the conversation to a logged-in person, and refresh the login
level of the person's linked threads. The bridge's own keys (sessions, thread sets) are named
by the bridge and passed in."""

from __future__ import annotations

from collections.abc import Callable

from anon import tokens
from chat.clock import Clock
from chat.config import Config
from chat.domain import conversation as model
from chat.domain.conversation import Conversation, State
from chat.errors import BadToken, ConversationClosed, LinkedElsewhere
from chat.protocol.events import Event, encode
from chat.store.conversations import Store


class Links:
    def __init__(self, config: Config, store: Store, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.clock = clock

    async def check_anonymous(self, cid: str, token: str) -> Conversation:
        """The conversation whose capability ``token`` this is; BadToken or
        ConversationClosed otherwise."""
        conv = await self.store.get(cid)
        if conv is None or not tokens.token_matches(self.config.secrets.token_key, token,
                                                    conv.token_hash or None):
            raise BadToken()
        if conv.state == State.CLOSED:
            raise ConversationClosed()
        return conv

    async def register_youth_key(self, cid: str, token: str, youth_pk: str) -> None:
        """The youth's signing public key (first write wins)."""
        await self.check_anonymous(cid, token)
        await self.store.set_field_once(cid, model.YOUTH_PK, youth_pk)

    async def link_person(
        self, cid: str, token: str, person_tag: str, acr: str, age: str, youth_pk: str,
        threads_key: str, session_key: str, person_ttl: int,
        state_frame: Callable[[State], str],
    ) -> Conversation:
        """Link to a logged-in person in one step: the person's tag, level and key on the
        conversation; the token and resume code stop working; the conversation joins
        ``threads_key`` (expiring after ``person_ttl``); ``session_key`` loses its pending link
        ("lc"); ``state_frame(state)`` is published. Returns the conversation as linked."""
        for _ in range(5):  # the state may move between the read and the step
            conv = await self.check_anonymous(cid, token)
            if conv.person_tag and conv.person_tag != person_tag:
                raise LinkedElsewhere()
            reply = await self.store.link(
                cid, threads_key, session_key, person_tag, acr, age, youth_pk,
                int(self.clock.now()), person_ttl, conv.state, state_frame(conv.state))
            if reply.status == 1:
                linked = await self.store.get(cid)
                return linked if linked is not None else conv
            if reply.status == -1:
                raise BadToken()
            if reply.status == -2:
                raise LinkedElsewhere()
            if reply.state == State.CLOSED:
                raise ConversationClosed()
        raise ConversationClosed()

    async def conversation(self, cid: str) -> Conversation | None:
        return await self.store.get(cid)

    async def expires_in(self, cid: str) -> int:
        """When the conversation (and so what the bridge keeps beside it) expires, in seconds."""
        return await self.store.expires_in(cid)

    async def notify(self, cid: str, event: Event) -> None:
        """Tell everyone in the conversation (the bridge's device events)."""
        await self.store.notify(cid, encode(event))

    async def refresh_login_level(self, threads_key: str, person_tag: str, acr: str,
                                  age: str) -> None:
        """The person's linked threads learn the level and age of the newest login."""
        await self.store.relink_login(threads_key, person_tag, acr, age)
