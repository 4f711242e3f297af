"""The test clock file a web process reads (chat/clock.py's FileClock), written atomically:
written in place, a read between the truncate and the write sees an empty file, which means
"real time", and one request of a scripted day then happens in December instead of March."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest


def write_clock(path: Path, when: float | str | None) -> None:
    """Set the web process's wall clock to ``when`` (Unix seconds); None or "" = real time."""
    tmp = path.with_name(path.name + ".new")
    tmp.write_text("" if when is None else str(when), encoding="utf-8")
    os.replace(tmp, path)


async def set_clock(path: Path, when: float | str | None) -> None:
    """``write_clock``, then long enough for the web process to have read it (it re-reads the
    file at most every 50 ms), so the next request is served at the new time."""
    await asyncio.to_thread(write_clock, path, when)
    await asyncio.sleep(0.12)


def new_clock_file(factory: pytest.TempPathFactory) -> Path:
    """An empty clock file (real time) for a module's web process (HELSEPRAT_TEST_CLOCK_FILE)."""
    path = factory.mktemp("clock") / "now"
    write_clock(path, None)
    return path
