"""Start and stop the NHN lookalike as a child process (tests and ``make run``).

    proc = NhnProcess(data_dir=Path("var/nhn"), keys_file=clients_json, receivers={8000100})
    proc.start()          # picks a free port; proc.url is the base URL (issuer and API)
    ...
    proc.stop()           # SIGTERM; proc.stop(hard=True) is SIGKILL
    proc.start()          # same port, same data dir: the store survives
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from devservices.standin import ChildStandin


@dataclass
class NhnProcess(ChildStandin):
    data_dir: Path
    keys_file: Path
    receivers: frozenset[int] = frozenset()
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    module: ClassVar[str] = "devservices.nhn"
    what: ClassVar[str] = "NHN lookalike"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "nhn.log"

    def child_args(self) -> list[str]:
        return ["--data-dir", str(self.data_dir), "--keys", str(self.keys_file),
                "--receivers", ",".join(str(h) for h in sorted(self.receivers))]

    @property
    def token_endpoint(self) -> str:
        return self.url + "/connect/token"

    def restart(self) -> None:
        self.stop()
        self.start()
