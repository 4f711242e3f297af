"""The one HTTP error path, against a real web process: every API error is
{"error": {"code", "message"}} with the class's status; the login page keeps its page."""

from __future__ import annotations

import re

import httpx

from chat.client.protocol import nurse_login
from chat.errors import (
    BadDevice,
    BadJson,
    ClientError,
    CsrfFailed,
    LoginRefused,
    NotAuthenticated,
    NotAuthorized,
    UnknownService,
)
from devservices.webproc import WebProcess
from tests.chat.web.dashboard_fixtures import csrf_of
from tests.conftest import DEMO_PASSWORD


def assert_error(response: httpx.Response, err: ClientError) -> None:
    assert response.status_code == err.http_status
    assert response.json() == {"error": {"code": err.code, "message": err.message}}


async def test_api_errors_have_one_shape(web: WebProcess) -> None:
    async with httpx.AsyncClient(base_url=web.base) as http:
        assert_error(await http.get("/api/team/no-such-service"), UnknownService())
        assert_error(await http.get("/api/nurse/keys"), NotAuthenticated())
        assert_error(await http.get("/api/lead/overview?service=demo-skole"), NotAuthenticated())
        assert_error(await http.post("/api/nurse/device", json={}), NotAuthenticated())


async def test_device_api_errors_for_a_signed_in_nurse(web: WebProcess) -> None:
    cookie = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
    csrf = await csrf_of(web.base, cookie)
    async with httpx.AsyncClient(base_url=web.base, cookies={"hp_session": cookie}) as http:
        assert_error(await http.post("/api/nurse/device", json={}), CsrfFailed())
        headers = {"x-csrf-token": csrf, "content-type": "application/json"}
        assert_error(await http.post("/api/nurse/device", content=b"{not json", headers=headers),
                     BadJson())
        assert_error(await http.post("/api/nurse/device", content=b"[]", headers=headers),
                     BadJson("The body must be an object."))
        assert_error(await http.post("/api/nurse/device", json={"wrapped": "x"}, headers=headers),
                     BadDevice())
        assert_error(await http.get("/api/lead/audit?service=demo-skole"),
                     NotAuthorized("Only the service's leads can see this."))


async def test_login_page_shows_its_errors(web: WebProcess) -> None:
    async with httpx.AsyncClient(base_url=web.base) as http:
        page = await http.get("/nurse/login")
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert m is not None
        wrong = await http.post("/nurse/login", data={"csrf": m[1], "username": "demo.nurse",
                                                      "password": "not the password"})
        assert wrong.status_code == LoginRefused.http_status
        assert "text/html" in wrong.headers["content-type"]
        assert 'role="alert"' in wrong.text
        stale = await http.post("/nurse/login", data={"csrf": "stale", "username": "demo.nurse",
                                                      "password": DEMO_PASSWORD})
        assert stale.status_code == CsrfFailed.http_status
        assert 'role="alert"' in stale.text
