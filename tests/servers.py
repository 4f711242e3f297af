"""Real web processes for integration tests: `helseprat serve` as child processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devservices.demo import DEMO_SERVICES, write_secret
from devservices.redis_proc import free_port

FAST_LIMITS = """
# Integration tests script faster than a person types.
[limits]
sends_per_second = 500
send_burst = 500
frames_per_second = 1000
frame_burst = 1000
"""

BASE_SERVICES = DEMO_SERVICES + """
[[service]]
id = "closed-clinic"
municipality = "demo"
name = "Stengt klinikk"
kind = "clinic"
retention_days = 7
members = ["demo.nurse"]

[service.hours]
holidays = []

[[service]]
id = "other-service"
municipality = "demo"
name = "Annen tjeneste"
kind = "school"
retention_days = 14
members = ["other.nurse"]

[service.hours]
daily = "00:00-24:00"
"""


TEST_SERVICES = FAST_LIMITS + BASE_SERVICES


def write_test_config(data_dir: Path, services: str = TEST_SERVICES) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "services.toml").write_text(services, encoding="utf-8")
    for name in ("token_key", "session_key"):
        write_secret(data_dir / "secrets" / name)


@dataclass
class WebProcess:
    data_dir: Path
    redis_url: str
    port: int = 0
    log_path: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if not self.port:
            self.port = free_port()
        self.log_path = self.log_path or self.data_dir / f"web-{self.port}.log"
        env = dict(os.environ, HELSEPRAT_DATA_DIR=str(self.data_dir), REDIS_URL=self.redis_url,
                   HELSEPRAT_ENV="test", HELSEPRAT_PUBLIC_URL=self.base, **self.extra_env)
        log = open(self.log_path, "ab")  # owned by the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chat.cli", "serve", "--port", str(self.port)],
            env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"web process exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.base + "/readyz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("web process did not become ready")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def terminate(self, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""
