"""The bounded HTTP fuzz run of test_fuzz.py, against the identity bridge's routes: a real web
process with an ``[idporten]`` table pointing at the small fake provider. Random JSON and form
bodies to its POST routes, random query strings to the OIDC callback, the front-channel logout
and the pages: each is answered below 500 and the log holds no exception.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx

from tests.identity_bridge.web.conftest import (  # the bridge's own fixtures, used here too
    FakeSite,
    fake_idp,
    fake_site,
    rp_key,
    rp_key_file,
)
from tests.system.test_fuzz import CONTENT_TYPES, SEED, assert_no_traceback, body, text, value

__all__ = ["fake_idp", "fake_site", "rp_key", "rp_key_file"]  # fixtures, found by name

REQUESTS = 200
POSTS = ["/login/idporten/start", "/logout/idporten", "/api/youth/session/confirm",
         "/api/youth/key", "/api/youth/link/challenge", "/api/youth/link", "/api/youth/device"]
GETS = ["/login/idporten/callback", "/login/idporten/frontchannel-logout",
        "/login/idporten/logged-out", "/logg-inn", "/mine", "/api/youth/threads",
        "/api/youth/device"]
QUERY_KEYS = ["code", "state", "iss", "sid", "error", "error_description", "lang", "service",
              "conversation", "device"]


def requests(seed: int, n: int) -> Iterator[tuple[str, str, dict[str, str], bytes]]:
    rng = random.Random(seed)
    for _ in range(n):
        headers = {"content-type": rng.choice(CONTENT_TYPES)}
        if rng.random() < 0.6:
            yield "POST", rng.choice(POSTS), headers, body(rng)
        else:
            query = {rng.choice(QUERY_KEYS): str(value(rng)) if rng.random() < 0.5
                     else text(rng, rng.randrange(30)) for _ in range(rng.randrange(5))}
            yield "GET", f"{rng.choice(GETS)}?{urlencode(query)}", headers, b""


async def test_malformed_requests_to_the_identity_bridge_get_4xx_not_5xx(
    fake_site: FakeSite,
) -> None:
    web = fake_site.web
    statuses: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=web.base) as http:
        for method, path, headers, content in requests(SEED + 2, REQUESTS):
            r = await http.request(method, path, headers=headers, content=content)
            assert r.status_code < 500, (method, path, headers, content[:200], r.text[:500])
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert (await http.get("/readyz")).status_code == 200
    # The routes are there (not all 404), and malformed input is refused as such.
    assert statuses.get(404, 0) < REQUESTS // 2 and any(400 <= s < 500 for s in statuses), statuses
    assert_no_traceback(web)
