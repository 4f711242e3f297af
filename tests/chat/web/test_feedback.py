"""After the end, "was this helpful?": once per conversation, counted per service and week in a
counter that names no conversation, shown to the service's leads. And the nurse's name in the
state a returning youth gets."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import httpx
import redis.asyncio as aioredis

from chat.client.protocol import nurse_connect, nurse_login, youth_resume, youth_start
from devservices.webproc import WebProcess
from tests.conftest import DEMO_PASSWORD


def this_week() -> str:
    year, week, _ = dt.datetime.now(ZoneInfo("Europe/Oslo")).isocalendar()
    return f"{year}-W{week:02d}"


async def test_feedback_once_after_the_end_counted_without_the_conversation(
    web: WebProcess, redis_client: aioredis.Redis,
) -> None:
    key = f"fb:{{demo-skole}}:{this_week()}"
    await redis_client.delete(key)
    y, session = await youth_start(web.base, "demo-skole")
    await y.expect("state")
    await y.send({"type": "feedback", "helpful": True})
    assert (await y.expect("error"))["code"] == "invalid_state"  # not before the end

    n = await nurse_connect(web.base, await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD))
    await n.send({"type": "claim", "conversation": session.conversation})
    await n.expect("claimed")
    # A youth who comes back to an active conversation is told who has it.
    again = await youth_resume(web.base, session)
    state = next(f for f in again.seen if f["type"] == "state")
    assert (state["state"], state["nurse"]) == ("active", "Demo Helsesykepleier")
    await again.close()

    await n.send({"type": "close", "conversation": session.conversation, "outcome": "advice_given"})
    await y.expect("state", where=lambda f: f["state"] == "closed")
    await y.send({"type": "feedback", "helpful": True})
    assert await y.expect("feedback") == {"v": 1, "type": "feedback",
                                          "conversation": session.conversation, "counted": True}
    await y.send({"type": "feedback", "helpful": False})  # a second answer is not counted
    assert (await y.expect("feedback"))["counted"] is False
    assert await redis_client.hgetall(key) == {b"yes": b"1"}
    assert 0 < await redis_client.ttl(key)
    await y.close()
    await n.close()

    cookie = await nurse_login(web.base, "demo.lead", DEMO_PASSWORD)
    async with httpx.AsyncClient(base_url=web.base, cookies={"hp_session": cookie}) as http:
        page = (await http.get("/lead")).text
    section = page[page.index('id="ov-demo-skole"'):]
    assert re.search(r'data-figure="feedback:yes">1<', section)
    assert re.search(r'data-figure="feedback:no">0<', section)
