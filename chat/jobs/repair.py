"""On a Redis Cluster, the steps of a move that a dead process never ran are done from the hash.

There a move runs as steps on one slot each (chat/store/clustered.py), recorded in its
service's moves under way before the conversation's own step and forgotten by its last one. A
record older than ``GRACE_SECONDS`` is a move whose process died in between: each round, per
service, the sweep marks it (a move of the conversation that begins meanwhile writes over the
mark and is left to finish by itself), reads the hash — the authority — and makes the service's
lists (queue, active set, later lists, risk flags) and the slot sets of the nurses the move
named agree with it (chat/domain/placement.py): a waiting conversation back in its queue at its
old place, a moved or closed one out of the lists, a nurse's slot freed or kept. Then it
forgets the record.

An append's listing on the answer-later list is not recorded (appends are the hot path): the
sweep also looks for later conversations whose hash owes an answer but that are not listed,
and repairs them the same way.

On one Redis every move is one atomic script: nothing to repair, and the job does not run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chat.actions.conversations import Actions
from chat.domain.placement import holds, placement
from chat.store.conversations import Store
from chat.store.repair import LostMove, RepairStore

log = logging.getLogger("helseprat.jobs")

# A move's steps follow each other within milliseconds; one recorded for longer than this is
# taken to be lost (its process died or was cut off from Redis).
GRACE_SECONDS = 60.0


@dataclass(frozen=True)
class RepairResult:
    repaired: tuple[str, ...]  # conversations whose lists or slots were changed


async def sweep_repair(actions: Actions) -> RepairResult:
    store, repairs = actions.store, actions.store.repairs
    if repairs is None:
        return RepairResult(())
    now = actions.clock.now()
    mark = -now  # below any move's time: a move that begins now writes over it
    repaired: list[str] = []
    for service in actions.config.services.values():
        lost = await repairs.lost_moves(service.id, now - GRACE_SECONDS)
        recorded = {move.cid for move in lost}
        lost += [LostMove(cid, None) for cid in await repairs.unlisted_owed(service.id)
                 if cid not in recorded]
        for move in lost:
            if await repair(store, repairs, service.id, move, mark):
                repaired.append(move.cid)
    if repaired:
        log.info("repair sweep: lists of %d conversations made to agree with them",
                 len(repaired))
    return RepairResult(tuple(repaired))


async def repair(store: Store, repairs: RepairStore, service: str, move: LostMove,
                 mark: float) -> bool:
    """One lost move: True if a list or a slot changed."""
    if not await repairs.mark(service, move, mark):
        return False  # a move of it began since the round looked: left to that move
    conv = await store.get(move.cid)
    changed = await repairs.mend(service, move.cid, mark, placement(conv, service))
    if changed < 0:
        return False
    slots = [await repairs.fix_slot(nurse, move.cid, holds(conv, nurse))
             for nurse in move.nurses]
    await repairs.finish(service, move, mark)
    return changed > 0 or any(slots)


class RepairSweep:
    """The sweep as a periodic job: every 30 s, twice a second under a test clock."""

    name = "repair-sweep"

    def __init__(self, actions: Actions, test_clock: bool = False) -> None:
        self.actions = actions
        self.interval = 0.5 if test_clock else 30.0

    async def run(self) -> None:
        await sweep_repair(self.actions)
