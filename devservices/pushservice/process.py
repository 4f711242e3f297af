"""Start and stop the push-service stand-in as a child process (tests and ``make run``).

    proc = PushServiceProcess(log_dir=Path("var/pushservice"))
    proc.start()       # picks a free port; proc.base is its origin, http://127.0.0.1:PORT
    ...                # tell the web process: HELSEPRAT_PUSH_EXTRA_ORIGINS=proc.base
    proc.stop()        # SIGTERM; proc.stop(hard=True) is SIGKILL. State is memory only.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from devservices.redis_proc import free_port, stop_process
from devservices.standin import spawn_until_healthy, wait_port_free

LOG_NAME = "pushservice.log"


@dataclass
class PushServiceProcess:
    log_dir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        """The origin: the endpoints' prefix and the ``aud`` every VAPID token must name."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.log_dir / LOG_NAME

    def start(self, timeout: float = 15.0) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        args = [sys.executable, "-m", "devservices.pushservice", "--port", str(self.port)]
        self.proc = spawn_until_healthy(args, self.log_file, self.base + "/_test/health",
                                        "push-service stand-in", timeout)

    def stop(self, hard: bool = False) -> None:
        if self.proc is None:
            return
        stop_process(self.proc, hard)
        self.proc = None
        wait_port_free(self.port)
