"""After a real conversation, GET /metrics names nobody: no conversation id, username, name,
token, cookie, message id, message or address anywhere in the text, only numbers by role,
service, outcome and kind (chat/metrics/registry.py)."""

from __future__ import annotations

import base64
import re

import httpx

from chat.client.e2e import YouthCrypto, fetch_team
from chat.client.protocol import nurse_connect, ws_url
from devservices.webproc import WebProcess
from tests.chat.web.metrics_scrape import read, value
from tests.conftest import DEMO_PASSWORD
from tests.system.test_privacy import CLIENT_IP, open_from

BODIES = (base64.b64encode("MARKØR-ungdom-c41d".encode()).decode(),
          base64.b64encode("MARKØR-sykepleier-9e07".encode()).decode())


async def test_no_person_conversation_token_or_address_in_the_metrics(web: WebProcess) -> None:
    keys = YouthCrypto.create(await fetch_team(web.base, "demo-skole"))
    y = await open_from(ws_url(web.base, "/ws/youth"))
    await y.send({"type": "start", "service": "demo-skole", "key_bundle": keys.bundle_b64,
                  "epoch": keys.epoch})
    started = await y.expect("started")
    token, cid = started["token"], started["conversation"]
    async with httpx.AsyncClient(
        base_url=web.base, transport=httpx.AsyncHTTPTransport(local_address=CLIENT_IP)
    ) as http:
        page = await http.get("/nurse/login")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        r = await http.post("/nurse/login", data={"csrf": csrf, "username": "demo.nurse",
                                                  "password": DEMO_PASSWORD})
        assert r.status_code == 303
        cookie = http.cookies["hp_session"]
    n = await nurse_connect(web.base, cookie)
    await n.send({"type": "claim", "conversation": cid})
    await n.expect("claimed")
    await y.send({"type": "send", "cmid": "metricsprv01", "body": BODIES[0]})
    await n.expect("deliver")
    await n.send({"type": "send", "conversation": cid, "cmid": "metricsprv02",
                  "body": BODIES[1]})
    await y.expect("deliver")
    text = await read(web.base)  # while both are connected
    await n.send({"type": "close", "conversation": cid, "outcome": "advice_given"})
    await y.expect("state", where=lambda f: f["state"] == "closed")
    for c in (y, n):
        await c.close()
    text += await read(web.base)

    assert value(text, "helseprat_messages_total", role="youth") >= 1  # it did see the chat
    secrets_to_find = {
        "conversation id": cid, "token": token, "session cookie": cookie,
        "username": "demo.nurse", "display name": "Demo Helsesykepleier",
        "client address": CLIENT_IP, "any loopback address": "127.0.0.",
        "message ids": "metricsprv0", "message (youth)": BODIES[0],
        "message (nurse)": BODIES[1], "password": DEMO_PASSWORD,
    }
    for what, secret in secrets_to_find.items():
        assert secret not in text, what
    # Every label is one of the four, whatever the series.
    for labels in re.findall(r"\{([^}]*)\}", text):
        for pair in labels.split(","):
            assert pair.split("=")[0] in {"role", "service", "outcome", "kind", "le"}, pair
