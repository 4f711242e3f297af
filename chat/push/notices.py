"""``PushNotices``: the push room's side of the actions' ``Notices`` seam
(chat/actions/base.py). Each call only queues a delivery, when someone subscribed; the sender
(sender.py) decides later whether and when it goes out."""

from __future__ import annotations

from chat.clock import Clock
from chat.config import Config
from chat.domain.conversation import Conversation
from chat.store.breaks import BreakStore
from chat.store.push import PushStore


def youth_delivery(cid: str) -> str:
    return f"y:{cid}"


def nurse_delivery(service: str, username: str) -> str:
    return f"n:{service}:{username}"


class PushNotices:
    def __init__(self, config: Config, store: PushStore, clock: Clock, breaks: BreakStore) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.breaks = breaks

    async def nurse_answered(self, conv: Conversation) -> None:
        """Called only for a youth with a subscription (the append reported it and renewed it)."""
        await self.store.enqueue(youth_delivery(conv.id), self.clock.now())

    async def youth_waiting(self, service: str) -> None:
        svc = self.config.service(service)
        if svc is None:
            return
        now = self.clock.now()
        for username in await self.store.nurses_subscribed(svc.members):
            if await self.breaks.on_break(username):
                continue  # a nurse on a break gets no alerts (docs/queue.md)
            await self.store.enqueue(nurse_delivery(service, username), now)
