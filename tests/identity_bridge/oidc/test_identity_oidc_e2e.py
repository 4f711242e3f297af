"""A real login against the node ID-porten lookalike, over real sockets.

PAR → authorize (the lookalike's login form, driven with httpx) → callback → token exchange
with private_key_jwt → validated id_token (pid, acr, sid) → RP-initiated logout → the
lookalike's front-channel iframe, mapped back to the local session through sid.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from identity_bridge.oidc import (
    Acr,
    IdPortenClient,
    MemoryLoginSessionIndex,
    MemoryPendingStore,
    OidcError,
    RelyingPartyConfig,
    check_logout_return,
)
from tests.identity_bridge.oidc.idp_fakes import LookalikeHandle


def rp_config(handle: LookalikeHandle, key_file: Path, **kw: Any) -> RelyingPartyConfig:
    return RelyingPartyConfig(
        issuer=handle.process.issuer,
        client_id=handle.client_id,
        redirect_uri=handle.redirect_uri,
        post_logout_redirect_uri=handle.post_logout_redirect_uri,
        private_key_file=key_file,
        test_environment=True,
        **kw,
    )


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:  # keeps the provider's cookies
        yield client


def form_action(page: httpx.Response) -> str:
    match = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert match, page.text
    return str(page.url.join(html.unescape(match.group(1))))


async def follow_until(browser: httpx.AsyncClient, resp: httpx.Response, prefix: str) -> str:
    """Follow the provider's redirects by hand and stop at the RP's URL (nothing listens
    there: the test plays the RP)."""
    for _ in range(10):
        assert resp.status_code in (302, 303), resp.text
        location = str(resp.url.join(resp.headers["location"]))
        if location.startswith(prefix):
            return location
        resp = await browser.get(location)
    raise AssertionError("too many redirects")


async def test_login_logout_round_trip(
    idporten_lookalike: LookalikeHandle, rp_key_file: Path, browser: httpx.AsyncClient
) -> None:
    handle = idporten_lookalike
    rp = IdPortenClient(rp_config(handle, rp_key_file))
    store = MemoryPendingStore()
    try:
        start = await rp.start_login(return_to="conversation-42")
        await store.put(start.pending, 600)

        login_page = await browser.get(start.authorize_url, follow_redirects=True)
        assert login_page.status_code == 200
        person = next(p for p in handle.persons if p["age"] == 15)
        assert f'value="{person["pid"]}"' in login_page.text
        submitted = await browser.post(
            form_action(login_page), data={"pid": person["pid"], "acr": "idporten-loa-high"}
        )
        callback = httpx.URL(await follow_until(browser, submitted, handle.redirect_uri))
        params = dict(callback.params)
        assert params["iss"] == handle.process.issuer  # RFC 9207 from the provider

        result = await rp.complete_login(params, store, start.browser_binding)
        claims = result.claims
        assert claims.pid.value == person["pid"]
        assert claims.pid.synthetic
        assert claims.pid.age_on(date.today()) == 15
        assert claims.acr is Acr.HIGH
        assert claims.sid
        assert claims.amr == ("TestID",)
        assert result.return_to == "conversation-42"

        with pytest.raises(OidcError) as replay:
            await rp.complete_login(params, store, start.browser_binding)
        assert replay.value.code == "oidc_code_replay"

        index = MemoryLoginSessionIndex()
        await index.bind(claims.issuer, claims.sid, "local-session-1", 3600)

        logout = await rp.start_logout(result.id_token)
        confirm = await browser.get(logout.url)
        assert confirm.status_code == 200, confirm.text
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', confirm.text)
        assert xsrf
        done = await browser.post(form_action(confirm), data={"xsrf": xsrf[1], "logout": "yes"})
        assert done.status_code == 200, done.text

        iframe = re.search(r'<iframe[^>]*src="([^"]+)"', done.text)
        assert iframe, done.text
        frame_url = httpx.URL(html.unescape(iframe[1]))
        assert str(frame_url).startswith(handle.frontchannel_logout_uri)
        ended = await rp.frontchannel_logout(dict(frame_url.params), index)
        assert ended == "local-session-1"

        onward = re.search(r'<a id="continue" href="([^"]+)"', done.text)
        assert onward
        back = httpx.URL(html.unescape(onward[1]))
        assert str(back).startswith(handle.post_logout_redirect_uri)
        check_logout_return(dict(back.params), logout.state)
    finally:
        await rp.aclose()


async def test_high_minimum_is_the_only_level_offered(
    idporten_lookalike: LookalikeHandle, rp_key_file: Path, browser: httpx.AsyncClient
) -> None:
    rp = IdPortenClient(rp_config(idporten_lookalike, rp_key_file, acr_minimum=Acr.HIGH))
    try:
        start = await rp.start_login()
        page = await browser.get(start.authorize_url, follow_redirects=True)
        assert "idporten-loa-high" in page.text
        assert "idporten-loa-substantial" not in page.text
    finally:
        await rp.aclose()


async def test_authorization_request_without_par_is_refused(
    idporten_lookalike: LookalikeHandle, browser: httpx.AsyncClient
) -> None:
    handle = idporten_lookalike
    resp = await browser.get(
        handle.process.issuer + "/authorize",
        params={
            "client_id": handle.client_id,
            "response_type": "code",
            "redirect_uri": handle.redirect_uri,
            "scope": "openid",
            "state": "s" * 43,
            "nonce": "n" * 43,
            "code_challenge": "c" * 43,
            "code_challenge_method": "S256",
        },
    )
    # Either an error page or an error redirect, but never a login form.
    assert resp.status_code in (302, 303, 400), resp.text
    where = resp.headers.get("location", "") + resp.text
    assert "invalid_request" in where
    assert "Velg testperson" not in resp.text


async def test_discovery_looks_like_idporten(
    idporten_lookalike: LookalikeHandle, browser: httpx.AsyncClient
) -> None:
    issuer = idporten_lookalike.process.issuer
    doc = (await browser.get(issuer + "/.well-known/openid-configuration")).json()
    assert doc["issuer"] == issuer
    assert doc["pushed_authorization_request_endpoint"] == issuer + "/par"
    assert doc["end_session_endpoint"] == issuer + "/logout"
    assert doc["require_pushed_authorization_requests"] is True
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert set(doc["acr_values_supported"]) == {"idporten-loa-substantial", "idporten-loa-high"}
