"""Start and stop the EPJ stand-in as a child process (tests and ``make run``).

    epj = EpjStandinProcess(config_file=Path("var/epj/epj-standin.json"), log_dir=Path("var/epj"))
    epj.start()
    epj.publish(pid="...", start="2027-01-14T10:00:00+01:00", minutes=30, type_code="SAMTALE")
    epj.stop()
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
class EpjStandinProcess:
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
        args = [sys.executable, "-m", "devservices.epj", "--port", str(self.port),
                "--config", str(self.config_file)]
        self.proc = spawn_until_healthy(args, self.log_dir / "epj-standin.log",
                                        self.url + "/_dev/health", "EPJ stand-in", timeout)

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_process(self.proc, False)
        self.proc = None
        wait_port_free(self.port)

    # -- the control API, for tests and the demo ---------------------------------------------
    def publish(self, **appointment: Any) -> dict[str, Any]:
        """Publish (or, with the same ``uid``, move or cancel) an appointment."""
        resp = httpx.post(self.url + "/_dev/appointments", json=appointment, timeout=15)
        resp.raise_for_status()
        body: dict[str, Any] = resp.json()
        return body

    def set_mode(self, **mode: Any) -> None:
        httpx.post(self.url + "/_dev/mode", json=mode, timeout=5).raise_for_status()

    def state(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(self.url + "/_dev/state", timeout=5).json()
        return body
