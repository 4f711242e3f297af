"""Bad input over a real socket: each gets its stable error code, and nothing accepted is lost."""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from chat.client.protocol import ProtocolClient, nurse_connect, nurse_login, ws_url, youth_resume, youth_start
from devservices.webproc import WebProcess
from tests.conftest import DEMO_PASSWORD


async def _log_len(redis_url: str, cid: str) -> int:
    r = aioredis.from_url(redis_url)
    n = int(await r.xlen(f"c:{{{cid}}}:l"))
    await r.aclose()
    return n


BAD_FRAMES = [
    ("{not json", "bad_frame"),
    ('"a string"', "bad_frame"),
    (json.dumps({"v": 9, "type": "send"}), "unsupported_version"),
    (json.dumps({"v": 1, "type": "shout"}), "unknown_type"),
    (json.dumps({"v": 1, "type": "send", "cmid": "x"}), "schema_violation"),
    (json.dumps({"v": 1, "type": "send", "cmid": "goodcmid01", "body": "***"}), "schema_violation"),
    # A youth may not name a conversation: it can only write to its own.
    (json.dumps({"v": 1, "type": "send", "cmid": "goodcmid02", "body": "QUJD",
                 "conversation": "AAAAAAAAAAAAAAAAAAAAAA"}), "schema_violation"),
    (json.dumps({"v": 1, "type": "send", "cmid": "goodcmid03", "body": "A" * 70000}),
     "schema_violation"),  # body over 64 KiB
    (json.dumps({"v": 1, "type": "send", "cmid": "goodcmid04", "body": "A" * 100_000}),
     "frame_too_large"),  # frame over 96 KiB: refused before parsing
    (json.dumps({"v": 1, "type": "start", "service": "demo-skole"}), "invalid_state"),
]


async def test_bad_frames_are_refused_and_the_conversation_goes_on(
    web: WebProcess, redis_url: str
) -> None:
    y, session = await youth_start(web.base, "demo-skole")
    assert session.keys
    for i, (frame, code) in enumerate(BAD_FRAMES):
        await y.send({"type": "send", "cmid": f"accepted{i:02}", "body": session.keys.seal("ok")})
        assert (await y.expect("ack"))["seq"] == i + 1
        await y.send_raw(frame)
        assert (await y.expect("error", timeout=30))["code"] == code, frame[:80]
    # Same connection still works, and everything accepted is still there, once.
    await y.send({"type": "send", "cmid": "acceptedzz", "body": session.keys.seal("etter")})
    assert (await y.expect("ack"))["seq"] == len(BAD_FRAMES) + 1
    assert await _log_len(redis_url, session.conversation) == len(BAD_FRAMES) + 1
    await y.close()


async def test_frames_beyond_the_transport_limit_close_only_that_socket(
    web: WebProcess, redis_url: str
) -> None:
    y, session = await youth_start(web.base, "demo-skole")
    assert session.keys
    await y.send({"type": "send", "cmid": "accepted01", "body": session.keys.seal("før")})
    await y.expect("ack")
    await y.send_raw("x" * 400_000)  # past Hypercorn's websocket_max_message_size
    await y.closed.wait()
    again = await youth_resume(web.base, session)
    assert (await again.expect("deliver"))["cmid"] == "accepted01"
    assert await _log_len(redis_url, session.conversation) == 1
    await again.close()


async def test_wrong_token_and_unknown_conversation(web: WebProcess) -> None:
    _, session = await youth_start(web.base, "demo-skole")
    c = await ProtocolClient.open(ws_url(web.base, "/ws/youth"))
    await c.send({"type": "resume", "conversation": session.conversation, "token": "A" * 43,
                  "after": 0})
    assert (await c.expect("error"))["code"] == "bad_token"
    await c.send({"type": "resume", "conversation": "B" * 22, "token": session.token, "after": 0})
    assert (await c.expect("error"))["code"] == "bad_token"
    # Still unbound: sending is an invalid state, not a write anywhere.
    await c.send({"type": "send", "cmid": "nothere01", "body": "QUJD"})
    assert (await c.expect("error"))["code"] == "invalid_state"
    await c.close()


async def test_missing_or_stale_key_bundle_is_refused(web: WebProcess) -> None:
    c = await ProtocolClient.open(ws_url(web.base, "/ws/youth"))
    await c.send({"type": "start", "service": "demo-skole"})
    assert (await c.expect("error"))["code"] == "key_bundle_required"
    await c.send({"type": "start", "service": "demo-skole", "key_bundle": "QUJD", "epoch": 0})
    assert (await c.expect("error"))["code"] == "e2e_stale_epoch"
    await c.send({"type": "start", "service": "nope"})
    assert (await c.expect("error"))["code"] == "unknown_service"
    # A closed service takes no new conversations, whatever the page shows.
    await c.send({"type": "start", "service": "closed-clinic", "key_bundle": "QUJD", "epoch": 1})
    assert (await c.expect("error"))["code"] == "service_closed"
    await c.close()


async def test_nurse_cannot_touch_another_services_conversation(web: WebProcess) -> None:
    _, session = await youth_start(web.base, "demo-skole")
    cookie = await nurse_login(web.base, "other.nurse", DEMO_PASSWORD)
    n = await nurse_connect(web.base, cookie)
    for frame in (
        {"type": "claim", "conversation": session.conversation},
        {"type": "open", "conversation": session.conversation},
        {"type": "send", "conversation": session.conversation, "cmid": "intruder01",
         "body": "QUJD"},
        {"type": "close", "conversation": session.conversation, "outcome": "other"},
    ):
        await n.send(frame)
        assert (await n.expect("error"))["code"] == "not_authorized", frame
    # And a nurse of the service cannot write before claiming.
    cookie2 = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    m = await nurse_connect(web.base, cookie2)
    await m.send({"type": "send", "conversation": session.conversation, "cmid": "tooearly01",
                  "body": "QUJD"})
    assert (await m.expect("error"))["code"] == "not_authorized"
    await m.send({"type": "claim", "conversation": session.conversation})
    await m.expect("claimed")
    await m.send({"type": "close", "conversation": session.conversation, "outcome": "nonsense"})
    assert (await m.expect("error"))["code"] == "bad_outcome"
    for c in (n, m):
        await c.close()


async def test_flood_is_rate_limited(web_default_limits: WebProcess, redis_url: str) -> None:
    """With the production limits (5 sends/s, burst 20): a flood gets rate_limited, and every
    message that was acked is stored, and only those."""
    y, session = await youth_start(web_default_limits.base, "demo-skole")
    assert session.keys
    for i in range(60):
        await y.send({"type": "send", "cmid": f"flood{i:05}", "body": session.keys.seal("x")})
    acked, limited = set(), set()
    while len(acked) + len(limited) < 60:
        f = await y.expect(("ack", "error"), timeout=30)
        if f["type"] == "ack":
            acked.add(f["cmid"])
        else:
            assert f["code"] == "rate_limited"
            limited.add(f["ref"])
    assert limited and acked and not acked & limited
    assert await _log_len(redis_url, session.conversation) == len(acked)
    await y.close()
