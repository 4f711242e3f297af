"""Running an HTTP stand-in (the NHN lookalike, the push service) as a child process: start it,
wait until its health route answers, and after stopping it wait until its port is free."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from devservices.redis_proc import spawn_env

ROOT = Path(__file__).resolve().parents[1]


def spawn_until_healthy(args: list[str], log_file: Path, health_url: str, what: str,
                        timeout: float = 15.0) -> subprocess.Popen[bytes]:
    """Start ``args`` with output to ``log_file``; return once ``health_url`` answers 200."""
    with log_file.open("ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=log, env=spawn_env(), cwd=str(ROOT))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early; see {log_file}")
        with contextlib.suppress(httpx.HTTPError, OSError):
            if httpx.get(health_url, timeout=0.5).status_code == 200:
                return proc
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer in time")


def wait_port_free(port: int, timeout: float = 5.0) -> None:
    """Until nothing accepts on ``port``, so a restart on it cannot race the old socket."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.05)


def serve_until_signalled(app: object, host: str, port: int) -> None:
    """A stand-in's own process: ``app`` on Hypercorn at ``host:port`` (no access log, a short
    graceful stop) until SIGTERM or SIGINT."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    config.graceful_timeout = 1.0

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    asyncio.run(run())
