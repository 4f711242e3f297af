"""The test services file and secrets; the web process itself is devservices.webproc.WebProcess."""

from __future__ import annotations

from pathlib import Path

from devservices.demo import DEMO_SERVICES, write_secret

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
