"""Start and stop the SYSVAK stand-in as a child process (tests and ``make run``).

    proc = SysvakProcess(config_file=dev_setup(d), data_dir=d)
    proc.start()
    proc.set_mode("down")   # ok | slow | down | malformed | other_person
    proc.stop()
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import httpx

from devservices.standin import ChildStandin


@dataclass
class SysvakProcess(ChildStandin):
    config_file: Path
    data_dir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    module: ClassVar[str] = "devservices.sysvak"
    what: ClassVar[str] = "SYSVAK stand-in"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "sysvak-standin.log"

    def child_args(self) -> list[str]:
        return ["--config", str(self.config_file), "--data-dir", str(self.data_dir)]

    def set_mode(self, mode: str) -> None:
        httpx.post(self.url + "/_dev/mode", json={"mode": mode}, timeout=5).raise_for_status()
