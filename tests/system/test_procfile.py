"""The Procfile's ``web`` line, run as a process manager runs it (a shell, ``$PORT`` set): it
serves, and on SIGTERM it drains (its sockets are told ``reconnect``) and exits cleanly, which
is what a rolling restart behind a balancer needs (docs/operations.md)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from chat.client.protocol import youth_start
from devservices.redis_proc import RedisProcess, free_port
from devservices.webproc import wait_http
from tests.conftest import ROOT, clean_accounts
from tests.servers import write_test_config


def procfile_line(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise AssertionError(f"no {name} line in the Procfile")


def run_line(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """As honcho and foreman do: through a shell, here with ``exec`` so signals reach it."""
    with log.open("wb") as out:
        return subprocess.Popen(["sh", "-c", "exec " + command], env=env, stdout=out,
                                stderr=out, cwd=ROOT)


async def test_the_procfile_web_line_serves_and_drains_on_sigterm(
    redis_proc: RedisProcess, tmp_path: Path
) -> None:
    write_test_config(tmp_path)
    await clean_accounts(redis_proc.url, tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PORT=str(port), HELSEPRAT_DATA_DIR=str(tmp_path),
               REDIS_URL=redis_proc.url, HELSEPRAT_ENV="test", HELSEPRAT_PUBLIC_URL=base,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    log = tmp_path / "web.log"
    proc = await asyncio.to_thread(run_line, procfile_line("web"), env, log)
    try:
        await asyncio.to_thread(wait_http, base + "/readyz", 30.0, proc, log)
        youth, _ = await youth_start(base, "demo-skole")
        proc.send_signal(signal.SIGTERM)
        await youth.expect("reconnect", timeout=30)
        assert await asyncio.to_thread(proc.wait, 30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in log.read_text()
