"""Waiting youths who went away stop counting toward the others' places and waits.

A youth whose waiting conversation has had no connection for longer than the grace
(``[limits] waiting_gone_grace_seconds``, counted from when its last socket went away, or from
when the sweep first saw it with none, e.g. after its web process died) is set aside: out of
the queue that positions, expected waits, the front page's counts and the nurses' queue view
are read from, into ``qg:{service}`` with its original place. When the youth comes back
(resume, reconnect) the conversation counts again at that place (docs/queue.md). Nothing is
deleted here: the conversation keeps its retention, and its keys expire as before.

Each round, per service, by the injected clock: mark newly absent youths, forget absences of
those connected again, set aside those absent past the grace (``park.lua`` re-checks all of it
inside Redis, so a youth who returned meanwhile keeps its place), and drop set-aside entries
whose conversation no longer waits there (claimed, closed, expired).
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.actions.conversations import Actions
from chat.domain.conversation import State


@dataclass(frozen=True)
class GoneResult:
    set_aside: tuple[str, ...]
    dropped: tuple[str, ...]


async def sweep_gone(actions: Actions) -> GoneResult:
    store = actions.store
    grace = actions.config.limits.waiting_gone_grace_seconds
    now = actions.clock.now()
    parked: list[str] = []
    dropped: list[str] = []
    for service in actions.config.services.values():
        view = await store.gone_view(service.id)
        away = [c for c in view.queued if c not in view.online]
        await store.mark_absent(service.id, [c for c in away if c not in view.absent])
        await store.forget_absent(service.id, [
            c for c in view.absent if c in view.online or c not in view.queued])
        for cid in sorted(c for c in away if view.absent.get(c, now) <= now - grace):
            if await actions.set_aside_if_gone(cid, service.id):
                parked.append(cid)
        stale = []
        if view.set_aside:
            for cid, conv in zip(view.set_aside, await store.get_many(list(view.set_aside)),
                                 strict=True):
                if conv is None or conv.state != State.WAITING or conv.service != service.id \
                        or cid in view.queued:
                    stale.append(cid)
        await store.forget_set_aside(service.id, stale)
        dropped.extend(stale)
    return GoneResult(tuple(parked), tuple(dropped))


class GoneSweep:
    """The sweep as a periodic job: every 10 s (the grace is a minute), twice a second under a
    test clock."""

    name = "gone-sweep"

    def __init__(self, actions: Actions, test_clock: bool = False) -> None:
        self.actions = actions
        self.interval = 0.5 if test_clock else 10.0

    async def run(self) -> None:
        await sweep_gone(actions=self.actions)
