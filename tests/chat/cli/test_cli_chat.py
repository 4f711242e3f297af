"""`helseprat chat --as youth` and `--as nurse` talking to each other through a real server."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from devservices.webproc import WebProcess
from tests.conftest import DEMO_PASSWORD


async def test_terminal_youth_and_terminal_nurse(web: WebProcess, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text(DEMO_PASSWORD)
    youth = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chat.cli", "chat", "--as", "youth", "--url", web.base,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert youth.stdout and youth.stdin
    first = await asyncio.wait_for(youth.stdout.readline(), 20)
    assert first.startswith(b"# conversation ")
    nurse = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chat.cli", "chat", "--as", "nurse", "--url", web.base,
        "--password-file", str(pw), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert nurse.stdout and nurse.stdin

    async def read_until(stream: asyncio.StreamReader, needle: bytes) -> bytes:
        while True:
            line = await asyncio.wait_for(stream.readline(), 20)
            assert line, "stream ended"
            if needle in line:
                return line

    await read_until(nurse.stdout, b"# claimed")
    await read_until(youth.stdout, b"# active")
    youth.stdin.write("hei fra terminalen æøå\n".encode())
    await youth.stdin.drain()
    assert "youth> hei fra terminalen æøå" in (await read_until(nurse.stdout, b"youth>")).decode()
    nurse.stdin.write(b"hei tilbake\n")
    await nurse.stdin.drain()
    assert b"hei tilbake" in await read_until(youth.stdout, b"hei tilbake")
    for p in (youth, nurse):
        p.stdin.close()  # type: ignore[union-attr]
        await asyncio.wait_for(p.wait(), 20)
