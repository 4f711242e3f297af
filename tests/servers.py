"""The test services file and secrets; the web process itself is devservices.webproc.WebProcess."""

from __future__ import annotations

import re
from pathlib import Path

from chat.push.keys import write_push_keys
from devservices.demo import DEMO_SERVICES, write_secret

FAST_LIMITS = """
# Integration tests script faster than a person types.
[limits]
sends_per_second = 500
send_burst = 500
frames_per_second = 1000
frame_burst = 1000
# ... and start, and write, more than one person would (the caps have their own tests).
waiting_starts_per_client = 1000
max_messages_per_conversation = 100000
max_bytes_per_conversation = 1000000000
logins_per_client_per_minute = 1000
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

[service.answer_later]
enabled = false

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


LIVE_ONLY = "[service.answer_later]\nenabled = false\n"


def live_only(services: str) -> str:
    """``services`` with answer-later switched off in every service that does not set it: a
    start then waits in the queue whether or not a nurse is on duty (and is refused while
    closed), which is what the live-chat tests script (they start before a nurse connects)."""
    parts = re.split(r"(?m)^(?=\[\[service\]\])", services)
    out = [parts[0]]
    for part in parts[1:]:
        out.append(part if "[service.answer_later]" in part
                   else part.rstrip("\n") + "\n\n" + LIVE_ONLY + "\n")
    return "".join(out)


def write_test_config(data_dir: Path, services: str = TEST_SERVICES,
                      answer_later: bool = False) -> None:
    """The services file and secrets; ``answer_later`` False: see ``live_only``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    text = services if answer_later else live_only(services)
    (data_dir / "services.toml").write_text(text, encoding="utf-8")
    for name in ("token_key", "session_key"):
        write_secret(data_dir / "secrets" / name)
    write_push_keys(data_dir / "secrets")
