"""Retention, end to end: a closed anonymous conversation past its retention leaves nothing.

A real web process on the real Redis: a youth starts with a resume code, youth and nurse write
(sealed end to end), the nurse flags it, hands it on with an internal note, it comes back and is
closed (by the nurse, by the youth, or by the inactivity sweep). Then time passes: the web
process's clock is a file (chat/clock.py FileClock) and Redis's is moved the only way Redis
allows, by taking the elapsed time off every key's time to live (a key whose time is up is
deleted, as Redis itself would). The jobs run, and a SCAN of every key and value finds neither
the conversation id nor its hash tag nor any of its key material.

Crypto-shredding: the sealed copies of the conversation key (the key bundle and the resume
backup in the conversation's hash) never outlive the ciphertext they open.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from chat import crypto
from chat.actions.conversations import Actions
from chat.client.e2e import NurseCrypto, YouthCrypto, fetch_nurse_keys, fetch_team
from chat.client.protocol import ProtocolClient, nurse_connect, nurse_login, ws_url
from chat.clock import FakeClock
from chat.config import load_config
from chat.crypto.resume import resume_auth, resume_wrap_key, seal_backup
from chat.jobs.autoclose import sweep
from chat.store.conversations import Store
from devservices.webproc import WebProcess
from tests.clockfile import write_clock
from tests.conftest import DEMO_PASSWORD, start_clean_web
from tests.servers import write_test_config

SERVICE = "demo-skole"
RETENTION_S = 30 * 86_400  # demo-skole's retention_days
DAY = 86_400


@pytest.fixture
async def clocked_web(redis_url: str, tmp_path: Path) -> AsyncIterator[tuple[WebProcess, Path]]:
    data_dir = tmp_path / "web"
    write_test_config(data_dir)
    clock_file = data_dir / "clock"
    clock_file.write_text(str(time.time()))
    web = await start_clean_web(redis_url, data_dir,
                                extra_env={"HELSEPRAT_TEST_CLOCK_FILE": str(clock_file)})
    yield web, clock_file
    await asyncio.to_thread(web.stop)


async def advance(redis_url: str, clock_file: Path, seconds: float) -> None:
    """Move the web process's clock and Redis's expiry clock on by ``seconds``."""
    write_clock(clock_file, float(clock_file.read_text()) + seconds)  # noqa: ASYNC240
    r = aioredis.from_url(redis_url)
    async for key in r.scan_iter(count=500):
        ttl_ms = await r.pttl(key)
        if ttl_ms > 0:
            await r.pexpire(key, max(ttl_ms - int(seconds * 1000), 0) or -1)  # <= 0 deletes
    await r.aclose()


@dataclass(frozen=True)
class Played:
    """A conversation played up to its close: what must go, and the clients still open."""

    cid: str
    token: str
    key_bundle: str
    backup: str  # the resume backup: the conversation key sealed for the resume code
    youth: ProtocolClient
    nurse: ProtocolClient


async def conversation(web: WebProcess) -> Played:
    """A whole anonymous conversation, up to just before it is closed."""
    from anon.resume import new_resume_code

    keys = YouthCrypto.create(await fetch_team(web.base, SERVICE))
    code = new_resume_code()
    backup = crypto.b64encode(seal_backup(resume_wrap_key(code.secret_text), keys.ck,
                                          keys.me.seed))
    y = await ProtocolClient.open(ws_url(web.base, "/ws/youth"))
    await y.send({"type": "start", "service": SERVICE, "key_bundle": keys.bundle_b64,
                  "epoch": keys.epoch, "resume": {"handle": code.handle_text,
                                                  "auth": resume_auth(code.secret_text),
                                                  "backup": backup}})
    started = await y.expect("started")
    cid = started["conversation"]
    keys.bind(cid)
    cookie = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    nkeys = NurseCrypto.from_keys_json(await fetch_nurse_keys(web.base, cookie), DEMO_PASSWORD)
    n = await nurse_connect(web.base, cookie)
    await n.send({"type": "claim", "conversation": cid})
    state = await n.expect("state", where=lambda f: f.get("conversation") == cid)
    nkeys.open_conversation(SERVICE, cid, state["key_bundle"])
    await y.send({"type": "send", "cmid": "retention001", "body": keys.seal("hei")})
    await n.expect("deliver")
    await n.send({"type": "send", "conversation": cid, "cmid": "retention002",
                  "body": nkeys.seal(cid, "hei igjen")})
    await y.expect("deliver", where=lambda f: f["from"] == "nurse")
    await n.send({"type": "flag", "conversation": cid, "kind": "concern"})
    await n.expect("flagged")
    # Handed to a colleague with a note, and handed back: notes, inbox, open sets.
    await n.send({"type": "transfer", "conversation": cid, "to_nurse": "demo.lead",
                  "note": nkeys.seal(cid, "notat")})
    await n.expect("transferred")
    lead = await nurse_connect(web.base, await nurse_login(web.base, "demo.lead", DEMO_PASSWORD))
    await lead.send({"type": "transfer", "conversation": cid, "to_nurse": "demo.nurse",
                     "note": nkeys.seal(cid, "notat tilbake")})
    await lead.expect("transferred")
    await lead.close()
    await n.expect("assigned", where=lambda f: f.get("conversation") == cid)
    await n.expect("history_end", where=lambda f: f.get("conversation") == cid)
    return Played(cid, started["token"], keys.bundle_b64, backup, y, n)


async def close(how: str, web: WebProcess, redis_url: str, clock_file: Path,
                conv: Played) -> None:
    y, n, cid = conv.youth, conv.nurse, conv.cid
    if how == "nurse":
        await n.send({"type": "close", "conversation": cid, "outcome": "advice_given"})
    elif how == "youth":
        await y.send({"type": "end"})
    else:  # the web process's own sweep closes it once the clock says it has been idle
        await advance(redis_url, clock_file, 61 * 60)
    await y.expect("state", where=lambda f: f["state"] == "closed", timeout=20)
    await y.close()
    await n.close()


async def everything(redis_url: str) -> dict[str, str]:
    """Every key and a readable dump of its value."""
    r = aioredis.from_url(redis_url)
    out: dict[str, str] = {}
    async for key in r.scan_iter(count=500):
        kind = (await r.type(key)).decode()
        value: object = None
        if kind == "string":
            value = await r.get(key)
        elif kind == "hash":
            value = await r.hgetall(key)
        elif kind == "list":
            value = await r.lrange(key, 0, -1)
        elif kind == "set":
            value = await r.smembers(key)
        elif kind == "zset":
            value = await r.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            value = await r.xrange(key)
        out[key.decode(errors="replace")] = repr(value)
    await r.aclose()
    return out


async def expiry_ms(redis_url: str, key: str) -> int:
    r = aioredis.from_url(redis_url)
    at = int(await r.execute_command("PEXPIRETIME", key))
    await r.aclose()
    return at


async def run_jobs(web: WebProcess, redis_url: str, clock_file: Path) -> None:
    """Every periodic job once, by the clock that has moved on (the web process's runner
    also runs them on its own, twice a second under a test clock)."""
    config = load_config({"HELSEPRAT_DATA_DIR": str(web.data_dir), "REDIS_URL": redis_url})
    client = aioredis.from_url(redis_url, decode_responses=True)
    clock = FakeClock(float(clock_file.read_text()))  # noqa: ASYNC240
    await sweep(Actions(config, Store(client, clock), clock))
    await client.aclose()
    async with httpx.AsyncClient(base_url=web.base) as http:
        assert (await http.get("/readyz")).status_code == 200


@pytest.mark.parametrize("how", ["nurse", "youth", "inactivity"])
async def test_closed_conversation_past_retention_leaves_nothing(
    clocked_web: tuple[WebProcess, Path], redis_url: str, how: str,
) -> None:
    web, clock_file = clocked_web
    conv = await conversation(web)
    cid = conv.cid
    await close(how, web, redis_url, clock_file, conv)
    tag = "{" + cid + "}"
    before = await everything(redis_url)
    assert any(tag in k for k in before)  # the scan does see the conversation

    # Crypto-shredding: what holds a sealed conversation key expires no later than what holds
    # ciphertext, and nothing of the conversation is kept for ever.
    sealed = [k for k, v in before.items() if conv.key_bundle in v or conv.backup in v]
    cipher = [k for k in before if k.startswith(f"c:{tag}:") and k.split(":")[-1] in ("l", "n")]
    assert sealed and cipher, (sealed, cipher)
    sealed_at = [await expiry_ms(redis_url, k) for k in sealed]
    cipher_at = [await expiry_ms(redis_url, k) for k in cipher]
    assert all(t > 0 for t in sealed_at + cipher_at), "a key of the conversation never expires"
    assert max(sealed_at) <= min(cipher_at), dict(zip(sealed + cipher, sealed_at + cipher_at,
                                                      strict=True))

    await advance(redis_url, clock_file, RETENTION_S + DAY)
    await run_jobs(web, redis_url, clock_file)
    after = await everything(redis_url)
    secrets = {"conversation id": cid, "token": conv.token, "key bundle": conv.key_bundle,
               "resume backup": conv.backup}
    left = {key: name for key, value in after.items() for name, s in secrets.items()
            if s in key or s in value}
    assert left == {}, left
