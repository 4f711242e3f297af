"""``python -m devservices.rolling``: the restart command per process, and the refusals that
keep a rolling restart from taking down more than one process at a time. (The whole restart
under live conversations, behind nginx: tests/system/test_proxy.py.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

from devservices.redis_proc import free_port
from devservices.rolling import main
from devservices.webproc import WebProcess


async def roll(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_each_process_is_restarted_by_the_command_then_waited_for(
    web: WebProcess, tmp_path: Path
) -> None:
    mark = tmp_path / "restarted"
    command = f"touch {mark}-{{host}}-{{port}}"
    assert await roll("--restart", command, "--settle", "0", f"127.0.0.1:{web.port}") == 0
    assert (tmp_path / f"restarted-127.0.0.1-{web.port}").exists()


async def test_a_failed_command_stops_the_roll(web: WebProcess, tmp_path: Path) -> None:
    tries = tmp_path / "tries"
    failing = f"sh -c 'echo {{port}} >> {tries}; exit 1'"
    assert await roll("--restart", failing, "--settle", "0", f"127.0.0.1:{web.port}",
                      f"127.0.0.1:{web.port}") == 1
    assert tries.read_text().split() == [str(web.port)]  # the second was not tried


async def test_nothing_is_restarted_while_another_process_is_not_ready(
    web: WebProcess, tmp_path: Path
) -> None:
    mark = tmp_path / "restarted"
    assert await roll("--restart", f"touch {mark}", "--settle", "0", f"127.0.0.1:{web.port}",
                      f"127.0.0.1:{free_port()}") == 1
    assert not mark.exists()


async def test_a_process_that_does_not_come_back_stops_the_roll(tmp_path: Path) -> None:
    mark = tmp_path / "restarted"
    assert await roll("--restart", f"touch {mark}", "--settle", "0", "--timeout", "0.2",
                      f"127.0.0.1:{free_port()}") == 1
    assert mark.exists()
