"""Start and stop the Fiks stand-in as a child process (tests and ``make run``).

    fiks = FiksStandinProcess(config_file=dev_setup(dir, {...}), log_dir=dir)
    fiks.start()
    fiks.reports()      # what arrived, decrypted with the municipality's key
    fiks.stop()
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devservices.redis_proc import free_port, stop_process
from devservices.standin import spawn_until_healthy, wait_port_free


@dataclass
class FiksStandinProcess:
    config_file: Path
    log_dir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        args = [sys.executable, "-m", "devservices.fiks", "--port", str(self.port),
                "--config", str(self.config_file)]
        self.proc = spawn_until_healthy(args, self.log_dir / "fiks-standin.log",
                                        self.url + "/_dev/health", "Fiks stand-in", timeout)

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_process(self.proc, False)
        self.proc = None
        wait_port_free(self.port)

    def reports(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(self.url + "/_dev/reports", timeout=5).json()
        return body

    def set_mode(self, **mode: Any) -> None:
        httpx.post(self.url + "/_dev/mode", json=mode, timeout=5).raise_for_status()

    def advance(self, ref: str, status: str) -> None:
        httpx.post(self.url + "/_dev/advance", json={"id": ref, "status": status},
                   timeout=5).raise_for_status()
