"""A private ``redis-server`` child process: the embedded default when REDIS_URL is unset.

Used by ``make run`` (data under ./var/redis) and by the test suite (a temporary folder),
so both work on a machine whose port 6379 is taken and on one with no Redis at all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def stop_process(proc: subprocess.Popen[bytes], hard: bool = False, timeout: float = 10) -> None:
    """SIGTERM (or SIGKILL when ``hard``), wait, and kill if it does not go in time."""
    if proc.poll() is None:
        if hard:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class RedisProcess:
    """One redis-server with AOF on (appendfsync everysec), bound to loopback only, with a
    ``maxmemory`` ceiling and ``noeviction``."""

    data_dir: Path
    port: int = 0
    # A ceiling, and refusal past it: with noeviction a full Redis answers writes with an OOM
    # error (the server tells the client storage_full) instead of silently dropping keys
    # (queues, messages already acked).
    maxmemory: str = "1gb"
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def aof_dir(self) -> Path:
        return self.data_dir / "appendonlydir"

    def start(self, timeout: float = 10.0) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        args = [
            binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--protected-mode", "yes",
            "--logfile", str(self.data_dir / "redis.log"),
            # Fan-out is the hot path: keep slow subscribers from being cut off under load.
            "--client-output-buffer-limit", "pubsub 256mb 128mb 60",
            "--maxclients", "20000",
            "--maxmemory", self.maxmemory,
            "--maxmemory-policy", "noeviction",
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited early; see {self.data_dir / 'redis.log'}")
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", self.port), timeout=0.2
            ) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer in time")

    def stop(self, hard: bool = False) -> None:
        if self.proc is None:
            return
        stop_process(self.proc, hard)
        self.proc = None

    def restart(self) -> None:
        """Stop and start on the same port and folder: the AOF is replayed."""
        self.stop()
        self.start()


def spawn_env() -> dict[str, str]:
    """Environment for child processes that must not inherit a stray REDIS_URL."""
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    return env
