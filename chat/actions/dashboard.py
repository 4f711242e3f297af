"""What the dashboard records as things happen, and what it reads back for nurses and leads.

Called from the actions layer after each state change has been stored; every figure here is
metadata: counts, times, outcome codes, flag kinds. Redis lives in chat/store/dashboard.py.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from chat.actions.infopages import InfoEditor
from chat.clock import Clock
from chat.config import Config
from chat.domain import stats
from chat.domain.conversation import Conversation, State
from chat.domain.later import reply_due
from chat.domain.ordering import NO_INTAKE, HeadStarts, Intake, head_start, queue_score
from chat.domain.staff import Nurse
from chat.errors import BadFlag, ConversationClosed, UnknownService
from chat.store.audit import Audit
from chat.store.breaks import BreakStore
from chat.store.canned import Canned
from chat.store.conversations import Store
from chat.store.dashboard import DashboardStore
from chat.store.infopages import InfoPages

DUTY_TTL = 60  # seconds a dashboard counts as on duty after its last ping



@dataclass(frozen=True)
class Flagged:
    conversation: str
    kind: str
    state: str
    nurse: str  # display name of the nurse who has it ("" while waiting)

    def as_json(self) -> dict[str, str]:
        return {"conversation": self.conversation, "kind": self.kind, "state": self.state,
                "nurse": self.nurse}


def _failed(fut: asyncio.Future[Any]) -> bool:
    return fut.done() and (fut.cancelled() or fut.exception() is not None)


async def _shared(reads: dict[str, tuple[int, asyncio.Future[Any]]], service: str, since: int,
                  tick: Callable[[], int], read: Callable[[str], Awaitable[Any]]) -> Any:
    """``read(service)`` as begun after ``since``: a read begun later is shared; else a new one."""
    current = reads.get(service)
    if current is None or current[0] <= since or _failed(current[1]):
        fut: asyncio.Future[Any] = asyncio.ensure_future(read(service))
        fut.add_done_callback(_failed)  # a failure is logged by those who waited, if any
        current = (tick(), fut)
        reads[service] = current
    return await asyncio.shield(current[1])


class Dashboard:
    def __init__(self, config: Config, store: Store, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.data = DashboardStore(store.redis, store.reads)
        self.clock = clock
        self.audit = Audit(config, store.redis, clock)
        self.canned = Canned(store.redis)
        self.breaks = BreakStore(store.redis, store.reads)
        self.info = InfoEditor(InfoPages(store.redis), self.audit)
        # Boards being (or last) read per service, with the tick at which the read began.
        self._ticks = itertools.count(1)
        self._boards: dict[str, tuple[int, asyncio.Future[dict[str, object]]]] = {}
        self._laters: dict[str, tuple[int, asyncio.Future[list[dict[str, object]]]]] = {}

    # -- statistics (per service and local day) -------------------------------------------------
    def _day(self, service: str, ts: float | None = None) -> str:
        svc = self.config.service(service)
        assert svc is not None
        return stats.local_day(self.clock.now() if ts is None else ts, svc.timezone)

    def _stats_ttl(self, service: str) -> int:
        svc = self.config.service(service)
        return (svc.audit_retention_days if svc else 365) * 86_400

    async def count(self, service: str, *names: str) -> None:
        await self.data.count(service, self._day(service), self._stats_ttl(service), *names)

    async def sample(self, service: str, kind: str, seconds: float) -> None:
        await self.data.sample(service, self._day(service), kind, seconds,
                               self._stats_ttl(service))

    # -- events from the actions layer (after the change is stored) -----------------------------
    async def on_started(self, service: str, intake: Intake = NO_INTAKE) -> None:
        await self.count(service, "started")
        if intake != NO_INTAKE:  # counted per week apart from the start: names no conversation
            week = stats.iso_week(self._day(service))
            await self.data.count_intake(service, week, stats.intake_counters(intake.topic, intake.urgent),
                                         self._stats_ttl(service))

    async def on_claimed(self, nurse: Nurse, conv: Conversation, waited: float,
                         live: bool = True) -> None:
        """``live``: claimed from the live queue (its wait is a claim-time sample)."""
        if live:
            await self.sample(conv.service, "claim", waited)
        await self.audit.record(conv.service, nurse.username, "claim", conv.id,
                                f"waited {int(waited)} s")
        await self.publish_team(conv.service)

    async def on_released(self, nurse: Nurse, conv: Conversation) -> None:
        await self.audit.record(conv.service, nurse.username, "release", conv.id)

    async def on_closed(self, conv: Conversation, outcome: str, actor: str, previous: State,
                        auto: bool = False) -> None:
        """``conv`` as read before the close (its claim time and flag)."""
        now = self.clock.now()
        names = ["closed", "o:" + outcome] + (["auto_closed"] if auto else [])
        await self.count(conv.service, *names)
        if previous == State.ACTIVE and conv.claimed_at:
            await self.sample(conv.service, "dur", now - conv.claimed_at)
        await self.audit.record(conv.service, actor or "youth",
                                "auto_close" if auto else "close", conv.id, outcome)

    async def later_answered(self, service: str, ts: float, within: bool) -> None:
        """An owed answer that waited in the answer-later list was given at ``ts`` (``within``:
        by the promised time), counted in the week of ``ts``."""
        week = stats.iso_week(self._day(service, ts))
        await self.data.count_later(service, week, within, self._stats_ttl(service))

    # -- risk flags -----------------------------------------------------------------------------
    async def flag(self, nurse: Nurse, conv: Conversation, kind: str) -> None:
        if kind not in (*stats.FLAG_KINDS, "none"):
            raise BadFlag()
        if conv.state == State.CLOSED:
            raise ConversationClosed()
        flag = "" if kind == "none" else kind
        head = head_start(conv.urgent, flag, HeadStarts(self.config.limits.urgent_head_start_seconds,
                                                        self.config.limits.acute_head_start_seconds))
        await self.data.set_flag(conv.id, conv.service, flag, head)
        if head != conv.head_start:  # its place follows, atomically and only while it waits
            await self.store.rescore(conv.id, conv.service, queue_score(conv.queued_since, head))
        if kind != "none" and kind != conv.flag:
            await self.count(conv.service, "f:" + kind)
        await self.audit.record(conv.service, nurse.username, "flag", conv.id, kind)
        await self.publish_team(conv.service)

    async def flagged(self, service: str) -> list[Flagged]:
        rows = await self.data.flagged(service)
        names = await self.display_names({nurse for *_, nurse in rows if nurse})
        out = [Flagged(cid, kind, st, names.get(nurse, "")) for cid, kind, st, nurse in rows]
        order = {"acute": 0, "concern": 1}
        out.sort(key=lambda f: (order.get(f.kind, 2), f.conversation))
        return out

    async def display_names(self, usernames: set[str]) -> dict[str, str]:
        return await self.data.display_names(usernames)

    # -- who is on duty -------------------------------------------------------------------------
    async def duty(self, nurse: Nurse, conn: str, on: bool) -> bool:
        """Mark one dashboard connection on (or off) duty in each of the nurse's services.

        Returns True when the set of on-duty entries changed (callers then tell the team).
        A nurse on a break is not on duty, whatever her dashboards' pings say.
        """
        if on and await self.breaks.on_break(nurse.username):
            return False
        until = self.clock.now() + DUTY_TTL if on else None
        return await self.data.duty(sorted(nurse.services), f"{nurse.username} {conn}", until)

    async def on_duty(self, service: str) -> list[str]:
        members = await self.data.on_duty(service, self.clock.now())
        names = await self.display_names({m.split(" ", 1)[0] for m in members})
        return sorted(names.values())

    # -- what a nurse's dashboard shows besides the queue --------------------------------------
    async def board(self, service: str) -> dict[str, object]:
        svc = self.config.service(service)
        return {"service": service,
                "flags": [f.as_json() for f in await self.flagged(service)],
                "on_duty": await self.on_duty(service),
                "target_wait_s": svc.target_wait_seconds if svc else 120}

    def tick(self) -> int:
        """A point in time for ``shared_board``: take it when told that a board changed."""
        return next(self._ticks)

    async def shared_board(self, service: str, since: int) -> dict[str, object]:
        """The board, as read after ``since`` (a ``tick``): every dashboard of a service is told
        of each change at once (hundreds when all reconnect after a restart), and those told
        before a read began share that read instead of making one each."""
        return cast(dict[str, object],
                    await _shared(self._boards, service, since, self.tick, self.board))

    async def later_list(self, service: str) -> list[dict[str, object]]:
        """The answer-later list as ``later_snapshot`` items, oldest owed first, each with the
        time its answer is promised by."""
        svc = self.config.service(service)
        if svc is None:
            raise UnknownService()
        return [{"conversation": i.conversation, "owed": i.owed, "due": reply_due(i.owed, svc),
                 "returning": i.returning} for i in await self.store.later_items(service)]

    async def shared_later(self, service: str, since: int) -> list[dict[str, object]]:
        """The answer-later list, shared as ``shared_board`` is."""
        return cast(list[dict[str, object]],
                    await _shared(self._laters, service, since, self.tick, self.later_list))

    async def publish_team(self, service: str) -> None:
        # The service channel's "queue changed" signal makes every dashboard re-read its board.
        await self.store.publish_queue_changed(service)

    async def take_inbox(self, nurse: Nurse) -> list[str]:
        return await self.data.take_inbox(nurse.username)

    # -- notes (nurse-only, sealed) -------------------------------------------------------------
    async def add_note(self, conv: Conversation, nurse: Nurse, body: str) -> None:
        svc = self.config.service(conv.service)
        ttl = svc.retention_seconds if svc else 30 * 86_400
        await self.data.add_note(conv.id, {"s": nurse.display_name, "svc": conv.service,
                                           "b": body, "t": int(self.clock.now())}, ttl)

    async def notes(self, cid: str) -> list[dict[str, object]]:
        raw = await self.data.notes(cid)
        return [{"id": i, "sender": f.get("s", ""), "service": f.get("svc", ""),
                 "body": f.get("b", ""), "ts": int(f.get("t", 0))} for i, f in raw]

    # -- the lead overview ------------------------------------------------------------------------
    async def overview(self, service: str, day: str) -> stats.DayFigures:
        svc = self.config.service(service)
        if svc is None:
            raise UnknownService()
        counters, waits, durs, waiting, oldest = await self.data.day(service, day)
        now = self.clock.now()
        since = await self.store.oldest_since(service) if oldest else None
        longest = int(max(0.0, now - since)) if since is not None else None
        later = await self.data.later_counts(service, stats.iso_week(day))
        return stats.figures(service, day, counters, (int(x) for x in waits),
                             (int(x) for x in durs), svc.outcomes, waiting, longest,
                             len(await self.on_duty(service)), later=later)

    # -- "was this helpful?" (per service and week, no conversation in the count) ------------
    async def feedback(self, conv: Conversation, helpful: bool) -> bool:
        week = stats.iso_week(self._day(conv.service))
        return await self.data.feedback(conv.id, conv.service, week, helpful,
                                        self._stats_ttl(conv.service))

    async def intake_week(self, service: str, day: str) -> tuple[str, dict[str, int]]:
        """The week of ``day``, and its intake counters (``t:<topic>``, ``urgent``)."""
        week = stats.iso_week(day)
        return week, await self.data.intake_counts(service, week)

    async def feedback_week(self, service: str, day: str) -> tuple[str, int, int]:
        """The week of ``day``, and its helpful / not helpful answers."""
        week = stats.iso_week(day)
        yes, no = await self.data.feedback_counts(service, week)
        return week, yes, no

    def today(self, service: str) -> str:
        return self._day(service)
