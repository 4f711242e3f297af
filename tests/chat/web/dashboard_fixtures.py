"""Shared set-up for the dashboard tests: services, one web process per module.

No tests here; the integration and browser dashboard modules import from this file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from chat.client.protocol import ProtocolClient, nurse_connect, nurse_login
from tests.conftest import DEMO_PASSWORD
from tests.servers import FAST_LIMITS, write_test_config

_OPEN_ALWAYS = """
[service.hours]
daily = "00:00-24:00"
"""

ESCALATION = ("Ved akutt fare: ring 113. Barnevernvakten: 116 111. "
              "Meldeplikt: helsepersonelloven § 33.")

DASH_SERVICES = FAST_LIMITS + f"""
[[municipality]]
id = "demo"
name = "Demo kommune"
escalation = "{ESCALATION}"

[[service]]
id = "dash-skole"
municipality = "demo"
name = "Skolehelsetjenesten, Dashbord skole"
kind = "school"
retention_days = 30
members = ["demo.nurse", "demo.lead"]
max_chats_per_nurse = 20
target_wait_seconds = 5
outcomes = ["advice_given", "referred", "other"]
{_OPEN_ALWAYS}
[[service]]
id = "dash-hfu"
municipality = "demo"
name = "Helsestasjon for ungdom, Dashbord"
kind = "clinic"
retention_days = 30
members = ["other.nurse"]
max_chats_per_nurse = 20
{_OPEN_ALWAYS}
[[service]]
id = "dash-stats"
municipality = "demo"
name = "Statistikk skole"
kind = "school"
retention_days = 30
members = ["demo.nurse", "demo.lead"]
max_chats_per_nurse = 20
outcomes = ["advice_given", "referred", "other"]
{_OPEN_ALWAYS}"""


def write_dash_config(data_dir: Path) -> None:
    write_test_config(data_dir, DASH_SERVICES)


async def nurse_ws(base: str, user: str) -> tuple[ProtocolClient, str]:
    cookie = await nurse_login(base, user, DEMO_PASSWORD)
    return await nurse_connect(base, cookie), cookie


async def csrf_of(base: str, cookie: str) -> str:
    async with httpx.AsyncClient(base_url=base, cookies={"hp_session": cookie}) as http:
        page = await http.get("/nurse")
    m = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert m is not None
    return m[1]


async def claimed(n: ProtocolClient, cid: str) -> dict[str, Any]:
    """Claim ``cid`` and return the state frame that carries its key bundle."""
    await n.send({"type": "claim", "conversation": cid})
    await n.expect("claimed", where=lambda f: f["conversation"] == cid)
    state: dict[str, Any] = await n.expect("state", where=lambda f: f["conversation"] == cid
                                           and "key_bundle" in f)
    return state
