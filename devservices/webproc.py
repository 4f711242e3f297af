"""One `helseprat serve` child process on 127.0.0.1, for integration tests and the bench.

The process imports `chat` from ``cwd`` (``python -m chat.cli serve``), so the bench can point
it at another checkout. It is stopped here, by its pid; with a ``wrapper`` (e.g. py-spy) the
server is the wrapper's child and signals go to the server itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devservices.redis_proc import free_port

ROOT = Path(__file__).resolve().parents[1]


def wait_http(url: str, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None,
              log_path: Path | None = None) -> None:
    """Poll ``url`` until it answers 200; fail early if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:] if log_path else ""
            raise RuntimeError(f"process exited with {proc.returncode}: {tail}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=0.5).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


@dataclass
class WebProcess:
    data_dir: Path
    redis_url: str
    port: int = 0
    log_path: Path | None = None  # default: data_dir/web-<port>.log
    extra_env: dict[str, str] = field(default_factory=dict)
    wrapper: list[str] = field(default_factory=list)  # e.g. py-spy record -o … --
    # The origin clients use (HELSEPRAT_PUBLIC_URL): behind a proxy, the proxy's; default base.
    public_url: str = ""
    python: str = sys.executable
    cwd: Path = ROOT
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The server's pid; with a wrapper, the wrapper's child (read from /proc)."""
        assert self.proc is not None
        if self.wrapper:
            with contextlib.suppress(OSError, ValueError, IndexError):
                kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
                return int(kids.split()[0])
        return self.proc.pid

    def start(self, timeout: float = 20.0) -> None:
        if not self.port:
            self.port = free_port()
        self.log_path = self.log_path or self.data_dir / f"web-{self.port}.log"
        env = dict(os.environ, HELSEPRAT_DATA_DIR=str(self.data_dir), REDIS_URL=self.redis_url,
                   HELSEPRAT_ENV="test", HELSEPRAT_PUBLIC_URL=self.public_url or self.base,
                   **self.extra_env)
        with open(self.log_path, "ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [*self.wrapper, self.python, "-m", "chat.cli", "serve", "--port", str(self.port)],
                env=env, stdout=log, stderr=log, cwd=self.cwd)
        wait_http(self.base + "/readyz", timeout, self.proc, self.log_path)

    def kill(self) -> None:
        """SIGKILL the server: no goodbye, in-flight frames die with it."""
        assert self.proc is not None
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM (graceful drain); returns the exit status."""
        assert self.proc is not None
        os.kill(self.pid, signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""
