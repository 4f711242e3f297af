"""The clock is injected so expiry, rate limits and auto-close are tested without sleeping."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall clock: stored timestamps, opening hours)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start (rate limits, timeouts)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._mono = 0.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._mono += seconds


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
