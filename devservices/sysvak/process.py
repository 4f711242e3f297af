"""Start and stop the SYSVAK stand-in as a child process (tests and ``make run``).

    proc = SysvakProcess(config_file=dev_setup(d), data_dir=d)
    proc.start()
    proc.set_mode("down")   # ok | slow | down | malformed | other_person
    proc.stop()
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devservices.redis_proc import free_port, stop_process
from devservices.standin import spawn_until_healthy, wait_port_free


@dataclass
class SysvakProcess:
    config_file: Path
    data_dir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "sysvak-standin.log"

    def start(self, timeout: float = 15.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        args = [sys.executable, "-m", "devservices.sysvak", "--port", str(self.port),
                "--config", str(self.config_file), "--data-dir", str(self.data_dir)]
        self.proc = spawn_until_healthy(args, self.log_file, self.url + "/_dev/health",
                                        "SYSVAK stand-in", timeout)

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_process(self.proc, False)
        self.proc = None
        wait_port_free(self.port)

    def set_mode(self, mode: str) -> None:
        httpx.post(self.url + "/_dev/mode", json={"mode": mode}, timeout=5).raise_for_status()
