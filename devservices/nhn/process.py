"""Start and stop the NHN lookalike as a child process (tests and ``make run``).

    proc = NhnProcess(data_dir=Path("var/nhn"), keys_file=clients_json, receivers={8000100})
    proc.start()          # picks a free port; proc.url is the base URL (issuer and API)
    ...
    proc.stop()           # SIGTERM; proc.stop(hard=True) is SIGKILL
    proc.start()          # same port, same data dir: the store survives
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from devservices.redis_proc import free_port, stop_process
from devservices.standin import spawn_until_healthy, wait_port_free


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
        self.proc = spawn_until_healthy(args, self.data_dir / "nhn.log", self.url + "/_dev/health",
                                        "NHN lookalike", timeout)

    def stop(self, hard: bool = False) -> None:
        if self.proc is None:
            return
        stop_process(self.proc, hard)
        self.proc = None
        wait_port_free(self.port)

    def restart(self) -> None:
        self.stop()
        self.start()
