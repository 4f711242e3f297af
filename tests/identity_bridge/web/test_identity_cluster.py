"""The ID-porten upgrade on a Redis Cluster: a web process whose REDIS_URL is
``redis+cluster://`` logs a youth in (the fake provider), links the anonymous conversation
(the conversation, the person's threads and the login session live in three slots) and shows
it as the youth's thread, reachable with the logged-in session only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chat.client.protocol import ProtocolClient, ws_url
from chat.store.client import connect
from devservices.redis_cluster import RedisCluster
from devservices.redis_proc import free_port
from identity_bridge.web import verified
from tests.identity_bridge.oidc.idp_fakes import FakeProvider
from tests.identity_bridge.web.conftest import FakeSite, idporten_table, start_site
from tests.identity_bridge.web.test_identity_web_flow import (
    Browser,
    anon_chat,
    login,
    prove_and_link,
    register_key,
)

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
async def cluster_site(
    redis_cluster: RedisCluster, fake_idp: FakeProvider, rp_key_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[FakeSite]:
    web = await start_site(tmp_path_factory.mktemp("idweb-cluster"), redis_cluster.url,
                           idporten_table(fake_idp.issuer, rp_key_file), free_port())
    yield FakeSite(web, fake_idp)
    await asyncio.to_thread(web.stop)


async def test_the_upgrade_links_a_conversation_on_a_cluster(cluster_site: FakeSite) -> None:
    web = cluster_site.web
    y, s = await anon_chat(web)
    b = Browser(web.base)
    try:
        await register_key(b, s)
        confirmed = await login(cluster_site, b, {
            "kind": "upgrade", "conversation": s.conversation, "token": s.token, "lang": "nb"})
        assert confirmed["conversation"] == s.conversation
        r = await prove_and_link(b, s)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "linked"

        threads = (await b.http.get("/api/youth/threads")).json()["threads"]
        assert [t["conversation"] for t in threads] == [s.conversation]
        # A link whose process died after its first step leaves the person's thread set
        # naming a conversation not linked to them: it is not shown (nor dropped, as the
        # link may still be under way).
        y2, s2 = await anon_chat(web)
        await y2.close()
        r = connect(web.redis_url)
        [threads_key] = [k async for k in r.scan_iter(match="yp:{*}:t")]
        await r.sadd(threads_key, s2.conversation)
        threads = (await b.http.get("/api/youth/threads")).json()["threads"]
        assert [t["conversation"] for t in threads] == [s.conversation]
        assert await r.smembers(threads_key) == {s.conversation, s2.conversation}
        await r.aclose()
        # The login's pending link is done: a new challenge has nothing to link.
        r = await b.post_json("/api/youth/link/challenge")
        assert r.status_code == 409 and r.json()["error"]["code"] == "no_upgrade_pending"

        old = await ProtocolClient.open(ws_url(web.base, "/ws/youth"))
        await old.send({"type": "resume", "conversation": s.conversation, "token": s.token,
                        "after": 0})
        assert (await old.expect("error"))["code"] == "bad_token"  # the token is retired
        await old.close()
        cookie = f"hp_youth={b.http.cookies['hp_youth']}"
        mine = await ProtocolClient.open(ws_url(web.base, "/ws/youth"), additional_headers={
            "Cookie": cookie, "Origin": web.base})
        await mine.send({"type": "resume_session", "conversation": s.conversation, "after": 0})
        state = await mine.expect("state")
        assert state["verified"] == verified("idporten-loa-substantial", "15")
        assert s.keys is not None
        assert s.keys.open((await mine.expect("deliver"))["body"]) == "hei anonymt"
        await mine.close()
    finally:
        await b.aclose()
        await y.close()
