"""Start and stop the EPJ stand-in as a child process (tests and ``make run``).

    epj = EpjStandinProcess(config_file=Path("var/epj/epj-standin.json"), log_dir=Path("var/epj"))
    epj.start()
    epj.publish(pid="...", start="2027-01-14T10:00:00+01:00", minutes=30, type_code="SAMTALE")
    epj.stop()
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx

from devservices.standin import ChildStandin


@dataclass
class EpjStandinProcess(ChildStandin):
    config_file: Path
    log_dir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    module: ClassVar[str] = "devservices.epj"
    what: ClassVar[str] = "EPJ stand-in"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "epj-standin.log"

    def child_args(self) -> list[str]:
        return ["--config", str(self.config_file)]

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
