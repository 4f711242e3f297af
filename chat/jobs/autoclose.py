"""Auto-close after inactivity, with a warning to the youth first.

``sweep`` looks at each service's active conversations (``keys.active``) and, by the injected
clock, warns those idle for ``inactivity_close_minutes - inactivity_warning_minutes`` and closes
those idle for ``inactivity_close_minutes``. Both steps are Lua scripts that re-check the last
activity inside Redis, so a message that arrives meanwhile wins, and a conversation is warned
or closed exactly once however many processes sweep.

``Sweeper`` runs ``sweep`` periodically in every web process; a short Redis lock (SET NX PX)
lets one process do each round. The warning and closing notices are plaintext ``system`` frames
from the server: they carry no youth content.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from redis.exceptions import RedisError

from chat import i18n
from chat.domain import stats
from chat.protocol import frames
from chat.store import names as keys

if TYPE_CHECKING:
    from chat.actions.conversations import Actions

log = logging.getLogger("helseprat.autoclose")

OUTCOME = "inactive"

# KEYS: meta. ARGV: last seen by the sweep, channel, frame. Warn once per period of silence.
_WARN = """
if redis.call('HGET', KEYS[1], 'st') ~= 'active' then return 0 end
if redis.call('HGET', KEYS[1], 'last') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'warned') == ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'warned', ARGV[1])
redis.call('PUBLISH', ARGV[2], '0 ' .. ARGV[3])
return 1
"""

# KEYS: conversation keys (meta first). ARGV: last seen by the sweep, now, ttl, channel,
# notice frame, state frame. Closes only if nothing happened since the sweep looked.
_CLOSE = """
if redis.call('HGET', KEYS[1], 'st') ~= 'active' then return 0 end
if redis.call('HGET', KEYS[1], 'last') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'st', 'closed', 'outcome', 'inactive', 'closed_at', ARGV[2], 'last', ARGV[2])
local ttl = tonumber(ARGV[3])
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
redis.call('PUBLISH', ARGV[4], '0 ' .. ARGV[5])
redis.call('PUBLISH', ARGV[4], '0 ' .. ARGV[6])
return 1
"""



def _(message: str) -> str:
    """Marks a string for extraction (pybabel); translated per language in ``_texts``."""
    return message


_WARNING = _("Samtalen avsluttes om {minutes} minutter hvis ingen skriver noe. "
             "Skriv en melding hvis du vil fortsette.")
_CLOSED = _("Samtalen ble avsluttet fordi ingen skrev noe på en stund.")


def _texts(message: str, **values: object) -> dict[str, str]:
    # The server does not know the youth's language: the notice carries all three.
    return {lang: i18n.gettext(lang, message).format(**values) for lang in i18n.LANGUAGES}


def warning_frame(cid: str, minutes: int) -> str:
    return frames.frame("system", conversation=cid, code="inactivity_warning", minutes=minutes,
                        text=_texts(_WARNING, minutes=minutes))


def closed_frame(cid: str) -> str:
    return frames.frame("system", conversation=cid, code="inactivity_closed",
                        text=_texts(_CLOSED))


@dataclass(frozen=True)
class SweepResult:
    warned: tuple[str, ...]
    closed: tuple[str, ...]


async def sweep(actions: Actions) -> SweepResult:
    redis = actions.store.redis
    warn_script = redis.register_script(_WARN)
    close_script = redis.register_script(_CLOSE)
    now = actions.clock.now()
    warned: list[str] = []
    closed: list[str] = []
    for service in actions.config.services.values():
        ids = cast(list[str], await redis.zrange(keys.active(service.id), 0, -1))
        if not ids:
            continue
        pipe = redis.pipeline(transaction=False)
        for cid in ids:
            pipe.hmget(keys.meta(cid), ["st", "svc", "last", "warned"])
        metas = cast(list[list[str | None]], await pipe.execute())
        close_s = service.inactivity_close_minutes * 60
        warn_s = service.inactivity_warning_minutes * 60
        for cid, (st, svc, last, was_warned) in zip(ids, metas, strict=True):
            if st != "active" or svc != service.id or last is None:
                await redis.zrem(keys.active(service.id), cid)
                continue
            due = stats.inactivity_due(int(last), now, close_s, warn_s,
                                       int(was_warned or 0))
            channel = keys.conversation_channel(cid)
            if due == "warn":
                minutes = max(1, round((close_s - (now - int(last))) / 60))
                if await warn_script(keys=[keys.meta(cid)],
                                     args=[last, channel, warning_frame(cid, minutes)]):
                    warned.append(cid)
            elif due == "close":
                meta = await actions.store.meta(cid)
                state = frames.frame("state", conversation=cid, state="closed", outcome=OUTCOME)
                done = await close_script(
                    keys=[*keys.conversation_keys(cid)],
                    args=[last, int(now), service.retention_seconds, channel, closed_frame(cid),
                          state])
                if done:
                    closed.append(cid)
                    await actions.after_auto_close(cid, meta)
    return SweepResult(tuple(warned), tuple(closed))


class Sweeper:
    """Runs ``sweep`` every ``interval`` seconds; one process per round holds the lock."""

    def __init__(self, actions: Actions, interval: float) -> None:
        self.actions = actions
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="inactivity-sweep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        redis = self.actions.store.redis
        lock_ms = max(100, int(self.interval * 800))
        while True:
            await asyncio.sleep(self.interval)
            try:
                if await redis.set(keys.sweep_lock(), "1", nx=True, px=lock_ms):
                    await sweep(self.actions)
            except (RedisError, OSError) as exc:
                log.warning("inactivity sweep skipped: %s", type(exc).__name__)
            except Exception:
                log.exception("inactivity sweep failed")


class FileClock:
    """Test only: wall time is read from a file (a Unix time; empty or missing = real time).

    Lets a browser test freeze and move a real web process's clock without sleeping. Enabled
    only when HELSEPRAT_ENV=test (see ``Config.test_clock_file``). Monotonic time stays real.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._checked = -1.0
        self._value: float | None = None

    def now(self) -> float:
        mono = time.monotonic()
        if mono - self._checked > 0.05:
            self._checked = mono
            try:
                text = self.path.read_text().strip()
                self._value = float(text) if text else None
            except (OSError, ValueError):
                self._value = None
        return time.time() if self._value is None else self._value

    def monotonic(self) -> float:
        return time.monotonic()


def sweep_interval(test_clock: bool) -> float:
    """Every 30 s in production (idle limits are minutes); twice a second under a test clock."""
    return 0.5 if test_clock else 30.0
