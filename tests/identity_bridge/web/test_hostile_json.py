"""The identity bridge's JSON endpoints (anonymous youths call them) read bodies through the
bounded parser: deep nesting or a lone surrogate is the routes' `bad_request`, not a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.chat.web.test_hostile_frames import assert_quiet_log
from tests.identity_bridge.web.conftest import FakeSite

JSON_ROUTES = ["/login/idporten/start", "/api/youth/session/confirm", "/api/youth/key",
               "/api/youth/link/challenge", "/api/youth/link", "/api/youth/device",
               "/logout/idporten"]


@pytest.mark.parametrize("body", ["[" * 2000, '{"a": ' * 1000 + "1" + "}" * 1000,
                                  '{"conversation": "\\ud800"}'])
async def test_hostile_json_bodies_are_bad_requests(fake_site: FakeSite, body: str) -> None:
    web = fake_site.web
    since = len(web.log_text())
    headers = {"origin": web.base, "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=web.base, headers=headers) as http:
        for path in JSON_ROUTES:
            r = await http.post(path, content=body.encode())
            assert r.status_code < 500, path
    assert_quiet_log(web, since)
