"""Services for the authorization and queue-integrity tests: two municipalities, and a colleague
who staffs a service in each. No tests here."""

from __future__ import annotations

from pathlib import Path

from tests.servers import FAST_LIMITS, write_test_config

_OPEN_ALWAYS = """
[service.hours]
daily = "00:00-24:00"
"""

AUTHZ_SERVICES = FAST_LIMITS + f"""

[[municipality]]
id = "demo"
name = "Demo kommune"

[[municipality]]
id = "annen"
name = "Annen kommune"

[[service]]
id = "az-skole"
municipality = "demo"
name = "Skolehelsetjenesten, Autz skole"
kind = "school"
retention_days = 30
members = ["demo.nurse", "demo.lead", "other.nurse"]
max_chats_per_nurse = 20
{_OPEN_ALWAYS}
[[service]]
id = "az-hfu"
municipality = "demo"
name = "Helsestasjon for ungdom, Autz"
kind = "clinic"
retention_days = 30
members = ["other.nurse"]
max_chats_per_nurse = 20
{_OPEN_ALWAYS}
[[service]]
id = "az-annen"
municipality = "annen"
name = "Skolehelsetjenesten, Annen kommune"
kind = "school"
retention_days = 30
members = ["other.nurse"]
max_chats_per_nurse = 20
{_OPEN_ALWAYS}"""


def write_authz_config(data_dir: Path) -> None:
    write_test_config(data_dir, AUTHZ_SERVICES)
