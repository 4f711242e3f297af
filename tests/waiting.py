"""Waiting for something the server does after the frame a test saw (an audit line, a close).

A deadline only so a broken run ends; nothing asserts how long it took."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 40.0) -> None:
    """Poll ``check`` until it holds; fail with ``what`` if it never does."""
    async def wait() -> None:
        while not await check():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"never: {what}") from None
