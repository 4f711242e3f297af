"""Push subscriptions: a youth's for its conversation, a nurse's for her account. Checked
(chat/push/subscription.py), sealed (chat/push/keys.py) and stored; nothing of a subscription
is kept in clear."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chat.clock import Clock
from chat.config import Config
from chat.domain.conversation import Conversation, State
from chat.domain.staff import Nurse
from chat.errors import BadToken, ConversationClosed, Unavailable
from chat.protocol.commands import PushSubscribe, PushUnsubscribe
from chat.push.delivery import PushSettings
from chat.push.keys import PushKeys, load_push_keys
from chat.push.notices import PushNotices
from chat.push.subscription import validate
from chat.store.breaks import BreakStore
from chat.store.conversations import Store
from chat.store.push import PushStore

if TYPE_CHECKING:
    from chat.push.sender import PushSender

log = logging.getLogger("helseprat.push")


@dataclass(frozen=True)
class Push:
    """What the composition root builds once: the keys (None: push is off), the settings,
    the store, the notices for the actions, and the subscription actions."""

    config: Config
    conversations: Store
    keys: PushKeys | None
    settings: PushSettings
    store: PushStore
    notices: PushNotices
    actions: PushActions


def push_setup(config: Config) -> tuple[PushKeys | None, PushSettings]:
    """The keys and settings, read once when the app is built: in prod the key files must be
    there, and a bad setting is a ConfigError anywhere; in dev and test, without key files push
    is off."""
    keys = load_push_keys(config.secrets_dir, required=config.environment == "prod")
    return keys, PushSettings.from_env(config.env, config.limits)


def build_push(config: Config, store: Store, clock: Clock,
               setup: tuple[PushKeys | None, PushSettings] | None = None) -> Push:
    keys, settings = setup or push_setup(config)
    if keys is None:
        log.warning("push off: no push keys in the secrets folder")
    pstore = PushStore(store.redis, clock)
    return Push(config=config, conversations=store, keys=keys, settings=settings, store=pstore,
                notices=PushNotices(config, pstore, clock, BreakStore(store.redis, store.reads)),
                actions=PushActions(store, pstore, keys, settings))


def push_jobs(push: Push) -> list[PushSender]:
    """The sender, when there are keys to send with."""
    if push.keys is None:
        return []
    # Only the job runner sends: a web process never loads aiohttp and pywebpush (a fifth of a
    # second of every start, which a restart's returning clients wait through).
    from chat.push.sender import PushSender

    return [PushSender(push.config, push.keys, push.settings, push.store, push.conversations,
                       push.store.clock)]


class PushActions:
    def __init__(self, store: Store, pstore: PushStore, keys: PushKeys | None,
                 settings: PushSettings) -> None:
        self.store = store
        self.pstore = pstore
        self.keys = keys
        self.settings = settings

    @property
    def public_key(self) -> str | None:
        """The VAPID public key for the pages (``data-vapid-key``); None: push is off."""
        return None if self.keys is None else self.keys.public_key

    def _keys(self) -> PushKeys:
        if self.keys is None:
            raise Unavailable("Push notices are not set up on this server.")
        return self.keys

    async def subscribe_youth(self, conv: Conversation, raw: Mapping[str, object]) -> str:
        """Store the subscription; the notice's tag, so the page can tell its service worker
        which page a tap on that notice opens."""
        keys = self._keys()
        sub = validate(raw, self.settings.extra_origins)
        fresh = await self.store.get(conv.id)
        if fresh is None:
            raise BadToken()
        if fresh.state == State.CLOSED:
            raise ConversationClosed()
        if not await self.pstore.save_youth(conv.id, keys.seal(sub.to_bytes(), conv.id)):
            raise BadToken()
        return sub.tag

    async def unsubscribe_youth(self, conv: Conversation) -> None:
        await self.pstore.forget_youth(conv.id)

    async def youth(self, conv: Conversation, cmd: PushSubscribe | PushUnsubscribe) -> str | None:
        """A youth's push frame carried out: the new subscription's tag, or None (none now)."""
        if isinstance(cmd, PushSubscribe):
            return await self.subscribe_youth(conv, cmd.subscription)
        await self.unsubscribe_youth(conv)
        return None

    async def subscribe_nurse(self, nurse: Nurse, raw: Mapping[str, object]) -> None:
        keys = self._keys()
        sub = validate(raw, self.settings.extra_origins)
        await self.pstore.save_nurse(nurse.username, keys.seal(sub.to_bytes(), nurse.username))

    async def subscribe_owner(self, owner: str, raw: Mapping[str, object], ttl_s: int) -> str:
        """A logged-in person's subscription for reminders (``owner``: their lookup tag),
        sealed to it; the notice's tag."""
        keys = self._keys()
        sub = validate(raw, self.settings.extra_origins)
        await self.pstore.save_owner(owner, keys.seal(sub.to_bytes(), owner), ttl_s)
        return sub.tag

    async def unsubscribe_owner(self, owner: str) -> None:
        await self.pstore.forget_owner(owner)

    async def unsubscribe_nurse(self, nurse: Nurse) -> None:
        await self.pstore.forget_nurse(nurse.username)
