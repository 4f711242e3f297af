"""Running an HTTP stand-in (the NHN lookalike, the EPJ, KS Fiks, SYSVAK, prøvesvar and push
service stand-ins) as a child process: start it, wait until its health route answers, and after
stopping it wait until its port is free (``ChildStandin`` puts these together)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import httpx

from devservices.redis_proc import free_port, spawn_env, stop_process

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


class ChildStandin:
    """What the stand-ins' process classes share: ``python -m <module> --port N <child_args>``
    on a free loopback port, started once its health route answers, stopped (SIGTERM, or SIGKILL
    with ``hard``) with its port free again. A subclass is a dataclass with the fields ``port``
    (0: pick one) and ``proc``, and names its module, what it is, and its log file."""

    module: ClassVar[str]
    what: ClassVar[str]
    health_path: ClassVar[str] = "/_dev/health"
    port: int
    proc: subprocess.Popen[bytes] | None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        raise NotImplementedError

    def child_args(self) -> list[str]:
        """The module's own arguments after ``--port``."""
        return []

    def start(self, timeout: float = 15.0) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        args = [sys.executable, "-m", self.module, "--port", str(self.port), *self.child_args()]
        self.proc = spawn_until_healthy(args, self.log_file, self.url + self.health_path,
                                        self.what, timeout)

    def stop(self, hard: bool = False) -> None:
        if self.proc is None:
            return
        stop_process(self.proc, hard)
        self.proc = None
        wait_port_free(self.port)


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
