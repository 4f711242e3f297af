"""Fair use without tracking (docs/queue.md): limits per capability token on open and new
conversations, a nurse's pause of new starts from a token, and a nurse's break.

Never an address: a start is counted under the keyed fair-use tag of the youth's capability
token (anon/tokens.py). The youth's browser presents the token it holds when it starts again;
one the server does not know is not reused (a fresh one is minted), so a token is always one
the server made.
"""

from __future__ import annotations

from dataclasses import dataclass

from anon import tokens
from chat.actions.base import ActionsBase
from chat.config import Service
from chat.domain.staff import Nurse, lead_services
from chat.errors import InvalidState, NotAuthorized, StartsPaused, TooManyNew, TooManyOpen
from chat.store.fairuse import PAUSED, TOO_MANY_OPEN, Bounds

PAUSE_HOURS = (1, 24, 168)  # the choices a nurse has (schema.json says the same)
BREAK_SECONDS = 4 * 3600  # a break nobody ended ends by itself


@dataclass(frozen=True)
class Load:
    """A nurse's load as her dashboard shows it."""

    capacity: int  # most conversations she may have at once (her services' highest cap)
    used: int
    on_break: bool


class FairUseActions(ActionsBase):
    # -- the youth's start ----------------------------------------------------------------------
    async def capability(self, presented: str) -> str:
        """The token a start runs under: the one presented if the server counts anything under
        it (a token it made, still in use), else a fresh one."""
        if presented:
            tag = tokens.fair_use_tag(self.config.secrets.token_key, presented)
            if await self.fair.known(tag):
                return presented
        return tokens.new_token()

    async def take_fair_use(self, token: str, cid: str, service: Service) -> tuple[str, str]:
        """Take one open place and one start of the period for ``token``, or refuse kindly.
        Returns (tag, start id) for the hash and for a ``release`` if the start is refused."""
        limits = self.config.limits
        tag = tokens.fair_use_tag(self.config.secrets.token_key, token)
        start_id = tokens.new_conversation_id()
        now = self.clock.now()
        taken = await self.fair.take(
            tag, cid, start_id, now,
            Bounds(limits.open_conversations_per_token, limits.new_conversations_per_token,
                   limits.new_conversations_period_seconds),
            now + service.retention_seconds)
        if taken.status == PAUSED:
            raise StartsPaused()
        if taken.status == TOO_MANY_OPEN:
            raise TooManyOpen()
        if taken.status != 1:
            raise TooManyNew()
        return tag, start_id

    # -- a nurse pauses new starts from a conversation's token -----------------------------------
    async def pause_starts(self, nurse: Nurse, cid: str, hours: int) -> int:
        """Pause new starts from the token that started ``cid`` for ``hours``; the time it
        ends. Audited without the token (who, which conversation's reference, how long)."""
        if hours not in PAUSE_HOURS:
            raise InvalidState("Choose 1 hour, 24 hours or 7 days.")
        conv = await self.conversation_for(nurse, cid)
        tag = await self.fair.tag_of(cid)
        if not tag:
            raise InvalidState("This conversation was started before pauses were possible.")
        seconds = hours * 3600
        until = int(self.clock.now()) + seconds
        await self.fair.pause(tag, until, nurse.username, seconds)
        await self.dashboard.audit.record(conv.service, nurse.username, "pause_starts", cid,
                                          f"{hours} h")
        return until

    async def lift_pause(self, nurse: Nurse, cid: str) -> None:
        """Lift the pause: the nurse who made it, or a lead of the service."""
        conv = await self.conversation_for(nurse, cid)
        tag = await self.fair.tag_of(cid)
        pause = await self.fair.paused(tag) if tag else None
        if pause is None:
            return
        lead = any(s.id == conv.service for s in lead_services(self.config, nurse))
        if pause.nurse != nurse.username and not lead:
            raise NotAuthorized("Only the nurse who paused it, or a lead, can lift the pause.")
        if await self.fair.lift(tag):
            await self.dashboard.audit.record(conv.service, nurse.username, "lift_pause", cid)

    async def start_pause(self, nurse: Nurse, cid: str) -> int | None:
        """When the pause of ``cid``'s token ends (None: not paused)."""
        await self.conversation_for(nurse, cid)
        tag = await self.fair.tag_of(cid)
        pause = await self.fair.paused(tag) if tag else None
        return pause.until if pause is not None else None

    # -- a nurse's break ------------------------------------------------------------------------
    async def set_break(self, nurse: Nurse, on: bool) -> bool:
        """Start or end her break; True when who is on duty changed (tell the team). On a
        break she is off duty at once in every service (each dashboard of hers); after it,
        each of her dashboards is on duty again at its next ping."""
        breaks = self.dashboard.breaks
        if on:
            await breaks.start(nurse.username, BREAK_SECONDS)
            return await breaks.off_duty(sorted(nurse.services), nurse.username)
        await breaks.end(nurse.username)
        return False

    async def load(self, nurse: Nurse) -> Load:
        caps = [s.max_chats_per_nurse for s in self.config.services.values()
                if s.id in nurse.services]
        used, on_break = await self.dashboard.breaks.load(nurse.username)
        return Load(capacity=max(caps, default=0), used=used, on_break=on_break)
