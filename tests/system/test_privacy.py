"""Privacy by construction: after a scripted, encrypted conversation, nothing that identifies the
youth or reveals the content is in Redis (every key, every value), in the AOF file, or in the logs.

The clients connect from 127.0.0.2 (any 127/8 address reaches loopback), so a leaked peer address
is a string the server itself never uses.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import redis.asyncio as aioredis
from websockets.asyncio.client import connect

from chat import crypto
from chat.client.e2e import NurseCrypto, YouthCrypto, fetch_nurse_keys, fetch_team
from chat.client.protocol import ProtocolClient, nurse_connect, nurse_login, ws_url
from chat.crypto.resume import resume_auth
from devservices.redis_proc import RedisProcess
from devservices.webproc import WebProcess
from tests.conftest import DEMO_PASSWORD

CLIENT_IP = "127.0.0.2"
MARKERS = ("MARKØR-ungdom-7f3a9c", "MARKØR-sykepleier-51be02", "MARKØR-kollega-c41d77")
TYPO_PASSWORD = "MARKØR-passord-i-brukernavnfeltet-93c1"


async def open_from(url: str, **kwargs: object) -> ProtocolClient:
    ws = await connect(url, local_addr=(CLIENT_IP, 0), **kwargs)  # type: ignore[arg-type]
    client = ProtocolClient(ws)
    client._reader = asyncio.create_task(client._read())
    return client


async def dump_everything(redis_url: str) -> str:
    r = aioredis.from_url(redis_url)
    out: list[str] = []
    async for key in r.scan_iter(count=500):
        out.append(key.decode(errors="replace"))
        kind = (await r.type(key)).decode()
        if kind == "string":
            out.append(repr(await r.get(key)))
        elif kind == "hash":
            out.append(repr(await r.hgetall(key)))
        elif kind == "list":
            out.append(repr(await r.lrange(key, 0, -1)))
        elif kind == "set":
            out.append(repr(await r.smembers(key)))
        elif kind == "zset":
            out.append(repr(await r.zrange(key, 0, -1, withscores=True)))
        elif kind == "stream":
            out.append(repr(await r.xrange(key)))
        out.append(repr(await r.dump(key)))
    await r.aclose()
    return "\n".join(out)


def aof_text(proc: RedisProcess) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", errors="replace")
                     for p in sorted(Path(proc.aof_dir).glob("*")) if p.is_file())


async def test_no_plaintext_token_code_or_address_at_rest_or_in_logs(
    web: WebProcess, redis_url: str, redis_proc: RedisProcess
) -> None:
    from anon.resume import new_resume_code
    from chat.crypto.resume import resume_wrap_key, seal_backup

    # A youth starts with a resume code, from 127.0.0.2, everything encrypted.
    keys = YouthCrypto.create(await fetch_team(web.base, "demo-skole"))
    code = new_resume_code()
    backup = seal_backup(resume_wrap_key(code.secret_text), keys.ck, keys.me.seed)
    y = await open_from(ws_url(web.base, "/ws/youth"))
    await y.send({"type": "start", "service": "demo-skole", "key_bundle": keys.bundle_b64,
                  "epoch": keys.epoch, "resume": {"handle": code.handle_text,
                                                  "auth": resume_auth(code.secret_text),
                                                  "backup": crypto.b64encode(backup)},
                  "topic": "sexual", "urgent": True})
    started = await y.expect("started")
    token, cid = started["token"], started["conversation"]
    keys.bind(cid)

    async with httpx.AsyncClient(
        base_url=web.base, transport=httpx.AsyncHTTPTransport(local_address=CLIENT_IP)
    ) as http:
        # A password typed into the username field by mistake: counted, never stored.
        page = await http.get("/nurse/login")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        r = await http.post("/nurse/login", data={"csrf": csrf, "username": TYPO_PASSWORD,
                                                  "password": "x"})
        assert r.status_code == 401
        page = await http.get("/nurse/login")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        r = await http.post("/nurse/login", data={"csrf": csrf, "username": "demo.nurse",
                                                  "password": DEMO_PASSWORD})
        assert r.status_code == 303
        cookie = http.cookies["hp_session"]
        device = r.cookies["hp_device"]
    nkeys = NurseCrypto.from_keys_json(await fetch_nurse_keys(web.base, cookie), DEMO_PASSWORD)
    n = await nurse_connect(web.base, cookie)
    await n.send({"type": "claim", "conversation": cid})
    state = await n.expect("state")
    nkeys.open_conversation("demo-skole", cid, state["key_bundle"])

    await y.send({"type": "send", "cmid": "privacy0001", "body": keys.seal(MARKERS[0])})
    got = await n.expect("deliver")
    assert nkeys.open(cid, got["body"]) == MARKERS[0]
    await n.send({"type": "send", "conversation": cid, "cmid": "privacy0002",
                  "body": nkeys.seal(cid, MARKERS[1])})
    got = await y.expect("deliver", where=lambda f: f["from"] == "nurse")
    assert keys.open(got["body"]) == MARKERS[1]
    # A colleague asked in (a second pair of eyes) joins and writes too.
    await n.send({"type": "invite", "conversation": cid, "nurse": "demo.lead"})
    await n.expect("invite_sent")
    lead_cookie = await nurse_login(web.base, "demo.lead", DEMO_PASSWORD)
    lkeys = NurseCrypto.from_keys_json(await fetch_nurse_keys(web.base, lead_cookie),
                                       DEMO_PASSWORD)
    lead = await nurse_connect(web.base, lead_cookie)
    await lead.send({"type": "join", "conversation": cid})
    lkeys.open_conversation("demo-skole", cid, (await lead.expect("state"))["key_bundle"])
    await lead.send({"type": "send", "conversation": cid, "cmid": "privacy0003",
                     "body": lkeys.seal(cid, MARKERS[2])})
    got = await y.expect("deliver", where=lambda f: f["cmid"] == "privacy0003")
    assert keys.open(got["body"]) == MARKERS[2]
    await n.send({"type": "close", "conversation": cid, "outcome": "advice_given"})
    await y.expect("state", where=lambda f: f["state"] == "closed")
    # A wrong token and a wrong resume code, so the error paths are in the logs too.
    bad = await open_from(ws_url(web.base, "/ws/youth"))
    await bad.send({"type": "resume", "conversation": cid, "token": "x" * 43, "after": 0})
    await bad.expect("error")
    await bad.send({"type": "resume_code", "handle": code.handle_text, "auth": "0" * 64})
    await bad.expect("error")
    for c in (y, n, lead, bad):
        await c.close()

    r = aioredis.from_url(redis_url)
    await r.execute_command("BGREWRITEAOF")
    await asyncio.sleep(1.5)  # appendfsync everysec
    await r.aclose()
    redis_dump = await dump_everything(redis_url)
    aof = aof_text(redis_proc)
    logs = web.log_text()
    assert cid in redis_dump and cid in aof  # the scan does see the conversation

    secrets_to_find = {
        "marker (youth)": MARKERS[0], "marker (nurse)": MARKERS[1],
        "marker (colleague asked in)": MARKERS[2], "colleague's session cookie": lead_cookie,
        "token": token, "resume handle": code.handle_text, "resume secret": code.secret_text,
        "resume auth": resume_auth(code.secret_text), "client address": CLIENT_IP,
        "password": DEMO_PASSWORD, "session cookie": cookie,
        "password typed as a username": TYPO_PASSWORD, "known-device cookie": device,
    }
    for where, text in (("redis", redis_dump), ("aof", aof), ("logs", logs)):
        for name, value in secrets_to_find.items():
            assert value not in text, f"{name} found in {where}"
        assert json.dumps(MARKERS[0])[1:-1] not in text

    # The intake is on the conversation's own hash and in the week's counters, which name no
    # conversation; no log line ties the topic to the conversation.
    r = aioredis.from_url(redis_url, decode_responses=True)
    try:
        assert await r.hget(f"c:{{{cid}}}:m", "tp") == "sexual"
        weeks = [k async for k in r.scan_iter("intake:*")]
        assert weeks
        for key in weeks:
            counted = await r.hgetall(key)
            assert int(counted.get("t:sexual", 0)) >= 1 and int(counted.get("urgent", 0)) >= 1
            assert cid not in key and cid not in repr(counted)
    finally:
        await r.aclose()
    assert not any(cid in line and "sexual" in line for line in logs.splitlines())
