"""Auto-close after inactivity, with a warning to the youth first.

``sweep`` looks at each service's active conversations and, by the injected clock, warns those
idle for ``inactivity_close_minutes - inactivity_warning_minutes`` and closes those idle for
``inactivity_close_minutes``. Both steps re-check the last activity inside Redis (the warn and
close scripts), so a message that arrives meanwhile wins, and a conversation is warned or
closed exactly once however many processes sweep.

``AutoClose`` is the periodic job (chat/jobs/runner.py). The warning and closing notices are
plaintext ``system`` frames from the server: they carry no youth content.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat import i18n
from chat.actions.conversations import Actions
from chat.domain import stats
from chat.domain.conversation import AUTO_CLOSE_OUTCOME, State
from chat.protocol import events
from chat.protocol.events import encode

OUTCOME = AUTO_CLOSE_OUTCOME


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
    return encode(events.System(conversation=cid, code="inactivity_warning", minutes=minutes,
                                text=_texts(_WARNING, minutes=minutes)))


def closed_frame(cid: str) -> str:
    return encode(events.System(conversation=cid, code="inactivity_closed",
                                text=_texts(_CLOSED)))


@dataclass(frozen=True)
class SweepResult:
    warned: tuple[str, ...]
    closed: tuple[str, ...]


async def sweep(actions: Actions) -> SweepResult:
    store = actions.store
    now = actions.clock.now()
    warned: list[str] = []
    closed: list[str] = []
    for service in actions.config.services.values():
        ids = await store.active_ids(service.id)
        if not ids:
            continue
        close_s = service.inactivity_close_minutes * 60
        warn_s = service.inactivity_warning_minutes * 60
        for cid, conv in zip(ids, await store.get_many(ids), strict=True):
            if conv is None or conv.state != State.ACTIVE or conv.service != service.id:
                await store.forget_active(service.id, cid)
                continue
            last = str(conv.last)
            due = stats.inactivity_due(conv.last, now, close_s, warn_s, conv.warned)
            if due == "warn":
                minutes = max(1, round((close_s - (now - conv.last)) / 60))
                if await store.warn(cid, last, warning_frame(cid, minutes)):
                    warned.append(cid)
            elif due == "close" and await actions.auto_close(conv, last, closed_frame(cid)):
                closed.append(cid)
    return SweepResult(tuple(warned), tuple(closed))


class AutoClose:
    """The sweep as a periodic job: every 30 s (idle limits are minutes), twice a second
    under a test clock."""

    name = "inactivity-sweep"

    def __init__(self, actions: Actions, test_clock: bool = False) -> None:
        self.actions = actions
        self.interval = 0.5 if test_clock else 30.0

    async def run(self) -> None:
        await sweep(self.actions)
