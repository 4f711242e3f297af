"""An ID-porten login belongs to the browser that started it, over real sockets against the
fake provider: its callback URL opened in another browser is refused there (no cookie, no
person stored) and the real youth's login still completes; the person is stored only once
the session is confirmed; a replayed callback after a login neither says that nothing is
linked nor breaks the session."""

from __future__ import annotations

from datetime import date
from typing import Any

from devservices.idporten.persons import make_persons
from tests.identity_bridge.web.conftest import FakeSite, redis_dump
from tests.identity_bridge.web.test_identity_web_flow import Browser, begin_login, claims_for, sign

LOGIN_COOKIE = "hp_login"
# Not the person the other web-flow tests log in as; FRESH logs in only once, in the test
# that looks at whether (and when) a person is stored.
PERSONS = {p.age: p.pid for p in make_persons(date.today())}
PID, FRESH = PERSONS[17], PERSONS[18]
NOTHING_LINKED = ("Ingenting er knyttet til deg", "Nothing has been linked to you")


async def person_keys(site: FakeSite) -> list[str]:
    return [k for k, _ in await redis_dump(site.web.redis_url) if k.startswith("yp:")]


async def session_keys(site: FakeSite) -> list[str]:
    return [k for k, _ in await redis_dump(site.web.redis_url) if k.startswith("ys:")]


async def started(site: FakeSite, b: Browser, body: dict[str, Any],
                  pid: str = PID) -> tuple[str, dict[str, str]]:
    """Start a login in ``b``; returns (binding, the callback's query) with the token ready."""
    binding, state, nonce = await begin_login(site, b, body)
    site.idp.token_response = {"id_token": sign(site, claims_for(site, nonce, pid=pid))}
    return binding, {"code": "c", "state": state, "iss": site.idp.issuer}


async def test_start_sets_a_login_cookie_for_the_callback_only(fake_site: FakeSite) -> None:
    b = Browser(fake_site.web.base)
    try:
        r = await b.post_json("/login/idporten/start", {"kind": "login", "lang": "nb"})
        assert r.status_code == 200, r.text
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(LOGIN_COOKIE + "=") and "HttpOnly" in cookie
        assert "SameSite=lax" in cookie and "Path=/login/idporten" in cookie
        assert "Max-Age=600" in cookie
        value = b.http.cookies[LOGIN_COOKIE]
        # Not the binding the tab keeps, and not in Redis in clear.
        assert value != r.json()["binding"]
        assert not [k for k, v in await redis_dump(fake_site.web.redis_url)
                    if value in k or value in v]
    finally:
        await b.aclose()


async def test_a_callback_opened_in_another_browser_is_refused_and_the_real_login_works(
    fake_site: FakeSite,
) -> None:
    youth, other = Browser(fake_site.web.base), Browser(fake_site.web.base)
    try:
        binding, query = await started(fake_site, youth, {"kind": "login", "lang": "en"})
        r = await other.http.get("/login/idporten/callback", params=query)
        assert r.status_code == 400
        assert 'data-code="oidc_browser"' in r.text
        assert "set-cookie" not in r.headers
        assert not await person_keys(fake_site) and not await session_keys(fake_site)
        # A forged login cookie does not help either.
        other.http.cookies.set(LOGIN_COOKIE, "x" * 43, domain="127.0.0.1", path="/login/idporten")
        r = await other.http.get("/login/idporten/callback", params=query)
        assert r.status_code == 400 and 'data-code="oidc_browser"' in r.text
        # The youth who started it is not locked out by the other browser's attempts.
        r = await youth.http.get("/login/idporten/callback", params=query)
        assert r.status_code == 303, r.text
        assert "hp_youth=" in r.headers["set-cookie"]
        r = await youth.post_json("/api/youth/session/confirm", {"binding": binding})
        assert r.status_code == 200, r.text
        assert (await youth.http.get("/api/youth/threads")).status_code == 200
    finally:
        await youth.aclose()
        await other.aclose()


async def test_the_person_is_stored_only_once_the_session_is_confirmed(fake_site: FakeSite) -> None:
    b = Browser(fake_site.web.base)
    try:
        before = set(await person_keys(fake_site))
        binding, query = await started(fake_site, b, {"kind": "login", "lang": "nb"}, FRESH)
        r = await b.http.get("/login/idporten/callback", params=query)
        assert r.status_code == 303, r.text
        assert set(await person_keys(fake_site)) == before
        # A wrong binding confirms nothing and stores nobody.
        r = await b.post_json("/api/youth/session/confirm", {"binding": "y" * 43})
        assert r.status_code == 401
        assert set(await person_keys(fake_site)) == before
        r = await b.post_json("/api/youth/session/confirm", {"binding": binding})
        assert r.status_code == 200, r.text
        stored = set(await person_keys(fake_site)) - before
        assert len(stored) == 1
        dump = dict(await redis_dump(fake_site.web.redis_url))
        assert dump[stored.pop()]  # the sealed pid and when it was first stored
    finally:
        await b.aclose()


async def test_a_replayed_callback_after_login_keeps_the_session(fake_site: FakeSite) -> None:
    youth, other = Browser(fake_site.web.base), Browser(fake_site.web.base)
    try:
        binding, query = await started(fake_site, youth, {"kind": "login", "lang": "en"})
        first = await youth.http.get("/login/idporten/callback", params=query)
        assert first.status_code == 303, first.text
        assert (await youth.post_json("/api/youth/session/confirm",
                                      {"binding": binding})).status_code == 200
        # The same browser again (back button, reload): where the first one went.
        again = await youth.http.get("/login/idporten/callback", params=query)
        assert again.status_code == 303
        assert again.headers["location"] == first.headers["location"]
        assert "set-cookie" not in again.headers
        assert (await youth.http.get("/api/youth/threads")).status_code == 200
        # Anywhere else: "already used", and no claim that nothing is linked.
        page = await other.http.get("/login/idporten/callback", params=query,
                                    headers={"accept-language": "en"})
        assert page.status_code == 400
        assert 'data-code="oidc_code_replay"' in page.text
        assert "This login link has already been used" in page.text
        assert not any(text in page.text for text in NOTHING_LINKED)
        assert "set-cookie" not in page.headers
        assert (await youth.http.get("/api/youth/threads")).status_code == 200
    finally:
        await youth.aclose()
        await other.aclose()


async def test_a_replay_in_the_same_browser_after_a_failed_login_says_already_used(
    fake_site: FakeSite,
) -> None:
    b = Browser(fake_site.web.base)
    try:
        _, state, nonce = await begin_login(fake_site, b, {"kind": "login", "lang": "en"})
        fake_site.idp.token_response = {
            "id_token": sign(fake_site, claims_for(fake_site, nonce, acr="idporten-loa-low"))}
        query = {"code": "c", "state": state, "iss": fake_site.idp.issuer}
        r = await b.http.get("/login/idporten/callback", params=query)
        assert r.status_code == 400 and 'data-code="oidc_acr_too_low"' in r.text
        r = await b.http.get("/login/idporten/callback", params=query)
        assert r.status_code == 400 and 'data-code="oidc_code_replay"' in r.text
        assert not any(text in r.text for text in NOTHING_LINKED)
    finally:
        await b.aclose()

