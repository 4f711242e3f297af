"""Start and stop the Fiks stand-in as a child process (tests and ``make run``).

    fiks = FiksStandinProcess(config_file=dev_setup(dir, {...}), log_dir=dir)
    fiks.start()
    fiks.reports()      # what arrived, decrypted with the municipality's key
    fiks.stop()
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx

from devservices.standin import ChildStandin


@dataclass
class FiksStandinProcess(ChildStandin):
    config_file: Path
    log_dir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    module: ClassVar[str] = "devservices.fiks"
    what: ClassVar[str] = "Fiks stand-in"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "fiks-standin.log"

    def child_args(self) -> list[str]:
        return ["--config", str(self.config_file)]

    def reports(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(self.url + "/_dev/reports", timeout=5).json()
        return body

    def set_mode(self, **mode: Any) -> None:
        httpx.post(self.url + "/_dev/mode", json=mode, timeout=5).raise_for_status()

    def advance(self, ref: str, status: str) -> None:
        httpx.post(self.url + "/_dev/advance", json={"id": ref, "status": status},
                   timeout=5).raise_for_status()
