"""Later conversations nobody comes back to are closed: after ``answer_later.close_after_days``
without activity (a message or a move; never longer than the service keeps its data), with
outcome ``inactive``, like the live inactivity sweep (chat/jobs/autoclose.py) and with its
closing notice.

It reads only the later conversations last seen active long enough ago (``later:{svc}:all``
by score); one that had activity since is scored again by its real last activity, so each is
read about once per idle period. The close re-checks the last activity inside Redis, so a
message that arrives meanwhile wins, and a conversation is closed once however many
processes sweep.
"""

from __future__ import annotations

from chat.actions.conversations import Actions
from chat.domain.conversation import State
from chat.jobs.autoclose import closed_frame


async def sweep_later(actions: Actions) -> tuple[str, ...]:
    store = actions.store
    now = actions.clock.now()
    closed: list[str] = []
    for service in actions.config.services.values():
        idle_s = min(service.answer_later.close_after_seconds, service.retention_seconds)
        ids = await store.later_idle(service.id, now - idle_s)
        if not ids:
            continue
        stale: list[str] = []
        for cid, conv in zip(ids, await store.get_many(ids), strict=True):
            if conv is None or conv.state != State.LATER or conv.service != service.id:
                stale.append(cid)
            elif conv.last > now - idle_s:
                await store.later_seen(service.id, cid, conv.last)
            elif await actions.auto_close(conv, str(conv.last), closed_frame(cid)):
                closed.append(cid)
        await store.forget_later(service.id, stale)
    return tuple(closed)


class LaterSweep:
    """The sweep as a periodic job: every 5 minutes (idle limits are days), twice a second
    under a test clock."""

    name = "later-sweep"

    def __init__(self, actions: Actions, test_clock: bool = False) -> None:
        self.actions = actions
        self.interval = 0.5 if test_clock else 300.0

    async def run(self) -> None:
        await sweep_later(self.actions)
