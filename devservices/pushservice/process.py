"""Start and stop the push-service stand-in as a child process (tests and ``make run``).

    proc = PushServiceProcess(log_dir=Path("var/pushservice"))
    proc.start()       # picks a free port; proc.base is its origin, http://127.0.0.1:PORT
    ...                # tell the web process: HELSEPRAT_PUSH_EXTRA_ORIGINS=proc.base
    proc.stop()        # SIGTERM; proc.stop(hard=True) is SIGKILL. State is memory only.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from devservices.standin import ChildStandin

LOG_NAME = "pushservice.log"


@dataclass
class PushServiceProcess(ChildStandin):
    log_dir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    module: ClassVar[str] = "devservices.pushservice"
    what: ClassVar[str] = "push-service stand-in"
    health_path: ClassVar[str] = "/_test/health"

    @property
    def base(self) -> str:
        """The origin: the endpoints' prefix and the ``aud`` every VAPID token must name."""
        return self.url

    @property
    def log_file(self) -> Path:
        return self.log_dir / LOG_NAME
