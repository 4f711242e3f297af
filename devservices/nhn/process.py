"""Start and stop the NHN lookalike as a child process (tests and ``make run``).

    proc = NhnProcess(data_dir=Path("var/nhn"), keys_file=clients_json, receivers={8000100})
    proc.start()          # picks a free port; proc.url is the base URL (issuer and API)
    ...
    proc.stop()           # SIGTERM; proc.stop(hard=True) is SIGKILL
    proc.start()          # same port, same data dir: the store survives
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devservices.redis_proc import free_port, spawn_env, stop_process


@dataclass
class NhnProcess:
    data_dir: Path
    keys_file: Path
    receivers: frozenset[int] = frozenset()
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_endpoint(self) -> str:
        return self.url + "/connect/token"

    def start(self, timeout: float = 15.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        args = [
            sys.executable, "-m", "devservices.nhn",
            "--port", str(self.port),
            "--data-dir", str(self.data_dir),
            "--keys", str(self.keys_file),
            "--receivers", ",".join(str(h) for h in sorted(self.receivers)),
        ]
        log = (self.data_dir / "nhn.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=log, env=spawn_env(),
                                     cwd=str(Path(__file__).resolve().parents[2]))
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"NHN lookalike exited early; see {self.data_dir / 'nhn.log'}")
            with contextlib.suppress(httpx.HTTPError, OSError):
                if httpx.get(self.url + "/_dev/health", timeout=0.5).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError("NHN lookalike did not answer in time")

    def stop(self, hard: bool = False) -> None:
        if self.proc is None:
            return
        stop_process(self.proc, hard)
        self.proc = None
        # Wait until the port is free again so a restart on it cannot race the old socket.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()
