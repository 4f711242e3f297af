"""A service's answer-later settings: the ``answer_later`` table of a ``[[service]]`` in the
services file, checked once at start-up.

    [service.answer_later]
    enabled = true            # take messages while closed or no nurse is on duty
    working_days = 1          # the promised answer: by the close of the Nth opening day
    close_after_days = 14     # close a later conversation after this long without activity
    quiet_hours = "21:00-08:00"   # no push notices then ("" = none)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from chat.errors import ConfigError

_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
KEYS = frozenset({"enabled", "working_days", "close_after_days", "quiet_hours"})


@dataclass(frozen=True)
class AnswerLater:
    enabled: bool = True
    working_days: int = 1
    close_after_days: int = 14
    # Push quiet hours in service-local time, (start, end); may wrap past midnight; None: none.
    quiet_hours: tuple[dt.time, dt.time] | None = (dt.time(21, 0), dt.time(8, 0))

    @property
    def close_after_seconds(self) -> int:
        return self.close_after_days * 86_400

    def is_quiet(self, at: dt.time) -> bool:
        """Whether ``at`` (service-local) falls in the quiet hours."""
        if self.quiet_hours is None:
            return False
        start, end = self.quiet_hours
        if start <= end:
            return start <= at < end
        return at >= start or at < end

    def quiet_end(self, at: dt.datetime) -> dt.datetime:
        """When the quiet hours around ``at`` (aware, service-local) end; ``at`` if not quiet."""
        if self.quiet_hours is None or not self.is_quiet(at.timetz().replace(tzinfo=None)):
            return at
        end = dt.datetime.combine(at.date(), self.quiet_hours[1], tzinfo=at.tzinfo)
        return end if end > at else end + dt.timedelta(days=1)


def _whole(raw: Mapping[str, object], name: str, default: int, lo: int, hi: int,
           where: str) -> int:
    value = raw.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ConfigError(f"{where}.answer_later.{name} must be a whole number between "
                          f"{lo} and {hi}")
    return value


def _quiet(value: object, where: str) -> tuple[dt.time, dt.time] | None:
    if value == "":
        return None
    m = _SPAN.match(value) if isinstance(value, str) else None
    if m is None:
        raise ConfigError(f"{where}.answer_later.quiet_hours: expected HH:MM-HH:MM or \"\", "
                          f"got {value!r}")
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ConfigError(f"{where}.answer_later.quiet_hours: {value} is not two times of day")
    if (h1, m1) == (h2, m2):
        raise ConfigError(f"{where}.answer_later.quiet_hours: start and end must differ")
    return dt.time(h1, m1), dt.time(h2, m2)


def parse_answer_later(raw: object, where: str) -> AnswerLater:
    """The ``answer_later`` table of a service (absent: the defaults)."""
    if raw is None:
        return AnswerLater()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}.answer_later must be a table")
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise ConfigError(f"{where}.answer_later: unknown setting {unknown[0]!r} "
                          f"(known: {', '.join(sorted(KEYS))})")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}.answer_later.enabled must be true or false")
    return AnswerLater(
        enabled=enabled,
        working_days=_whole(raw, "working_days", 1, 1, 30, where),
        close_after_days=_whole(raw, "close_after_days", 14, 1, 365, where),
        quiet_hours=_quiet(raw.get("quiet_hours", "21:00-08:00"), where),
    )
