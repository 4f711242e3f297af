"""The identity bridge's web flow over real sockets, against the fake provider (crafted
id_tokens): relying-party failures end in an error page in the youth's language and link
nothing; the upgrade links only with proof of possession; the nurse sees `verified`; logout
both ways ends the session; no pid in clear in Redis or the log."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from joserfc import jwt

from chat import crypto
from chat.client.protocol import (
    ProtocolClient,
    YouthSession,
    nurse_connect,
    nurse_login,
    ws_url,
    youth_resume,
    youth_start,
)
from devservices.idporten.persons import make_persons
from devservices.webproc import WebProcess
from identity_bridge.web import link_message, verified
from tests.conftest import DEMO_PASSWORD
from tests.identity_bridge.web.conftest import CLIENT_ID, FakeSite, assert_no_pid_anywhere, redis_dump

PERSON = next(p for p in make_persons(date.today()) if p.age == 15)
PID = PERSON.pid


def claims_for(site: FakeSite, nonce: str, /, **override: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": site.idp.issuer, "aud": CLIENT_ID, "sub": "pairwise-1", "iat": now,
              "exp": now + 120, "auth_time": now - 5, "nonce": nonce,
              "acr": "idporten-loa-substantial", "amr": ["TestID"], "pid": PID,
              "sid": "idporten-sid-" + nonce[:8], "locale": "nb"}
    claims.update(override)
    return {k: v for k, v in claims.items() if v is not None}


def sign(site: FakeSite, claims: dict[str, Any]) -> str:
    key = site.idp.signing_keys[0]
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key, algorithms=["RS256"])


class Browser:
    """An httpx client that behaves like one browser profile (cookie jar, Origin header)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=10,
                                      headers={"origin": base})

    async def post_json(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(path, json=body if body is not None else {})

    async def aclose(self) -> None:
        await self.http.aclose()


async def begin_login(site: FakeSite, b: Browser, body: dict[str, Any]) -> tuple[str, str, str]:
    """POST start; returns (binding, state, nonce) — the last two as the provider saw them."""
    site.idp.reset()
    r = await b.post_json("/login/idporten/start", body)
    assert r.status_code == 200, r.text
    par = site.idp.par_requests[-1]
    return r.json()["binding"], par["state"], par["nonce"]


async def anon_chat(web: WebProcess) -> tuple[ProtocolClient, YouthSession]:
    y, s = await youth_start(web.base, "demo-skole")
    assert s.keys is not None
    await y.send({"type": "send", "cmid": "anon-msg-1", "body": s.keys.seal("hei anonymt")})
    await y.expect("ack")
    return y, s


async def register_key(b: Browser, s: YouthSession) -> None:
    assert s.keys is not None
    r = await b.post_json("/api/youth/key", {
        "conversation": s.conversation, "token": s.token,
        "sign_pk": crypto.b64encode(s.keys.me.public_key)})
    assert r.status_code == 200, r.text


async def meta(site: FakeSite, cid: str) -> dict[str, str]:
    dump = dict(await redis_dump(site.web.redis_url))
    return {"raw": dump.get(f"c:{{{cid}}}:m", "")}


FAILURES: list[tuple[str, str, Callable[[FakeSite, str], dict[str, Any]], dict[str, str]]] = [
    ("iss in the callback", "oidc_iss_mismatch", lambda s, n: claims_for(s, n),
     {"iss": "http://127.0.0.1:1/evil"}),
    ("iss in the id_token", "oidc_iss_mismatch",
     lambda s, n: claims_for(s, n, iss=s.idp.issuer + "/"), {}),
    ("nonce", "oidc_nonce", lambda s, n: claims_for(s, n, nonce="x" * 43), {}),
    ("state", "oidc_state", lambda s, n: claims_for(s, n), {"state": "y" * 43}),
    ("acr", "oidc_acr_too_low", lambda s, n: claims_for(s, n, acr="idporten-loa-low"), {}),
    ("pid", "oidc_missing_pid", lambda s, n: claims_for(s, n, pid=None), {}),
]


@pytest.mark.parametrize(("what", "code", "make", "params"), FAILURES,
                         ids=[f[0] for f in FAILURES])
async def test_failed_login_shows_error_page_in_the_youths_language_and_links_nothing(
    fake_site: FakeSite, what: str, code: str,
    make: Callable[[FakeSite, str], dict[str, Any]], params: dict[str, str],
) -> None:
    y, s = await anon_chat(fake_site.web)
    b = Browser(fake_site.web.base)
    try:
        _, state, nonce = await begin_login(fake_site, b, {
            "kind": "upgrade", "conversation": s.conversation, "token": s.token, "lang": "en"})
        fake_site.idp.token_response = {"id_token": sign(fake_site, make(fake_site, nonce))}
        query = {"code": "code-1", "state": state, "iss": fake_site.idp.issuer, **params}
        r = await b.http.get("/login/idporten/callback", params=query,
                             headers={"accept-language": "nb"})
        assert r.status_code == 400
        assert 'lang="en"' in r.text or code == "oidc_state"
        if code != "oidc_state":  # the pending login says English; nb is the browser's
            assert "The login was not completed" in r.text
            assert "Nothing has been linked to you" in r.text
        else:
            assert "Innloggingen ble ikke fullført" in r.text
        assert f'data-code="{code}"' in r.text
        assert "set-cookie" not in r.headers
        raw = (await meta(fake_site, s.conversation))["raw"]
        assert "ptag" not in raw and "th" in raw
        # the anonymous token still works: nothing changed
        y2 = await youth_resume(fake_site.web.base, s)
        await y2.close()
    finally:
        await b.aclose()
        await y.close()
    assert not [k for k, _ in await redis_dump(fake_site.web.redis_url) if k.startswith(("yp:", "ys:"))]


async def test_cancelled_login_gets_a_friendly_page_in_nynorsk(fake_site: FakeSite) -> None:
    b = Browser(fake_site.web.base)
    try:
        _, state, _ = await begin_login(fake_site, b, {"kind": "login", "lang": "nn"})
        r = await b.http.get("/login/idporten/callback", params={
            "error": "access_denied", "state": state, "iss": fake_site.idp.issuer})
        assert r.status_code == 400
        assert 'lang="nn"' in r.text and "Du avbraut innlogginga." in r.text
    finally:
        await b.aclose()


async def login(site: FakeSite, b: Browser, body: dict[str, Any], **claims: Any) -> dict[str, Any]:
    binding, state, nonce = await begin_login(site, b, body)
    site.idp.token_response = {"id_token": sign(site, claims_for(site, nonce, **claims))}
    r = await b.http.get("/login/idporten/callback",
                         params={"code": "c", "state": state, "iss": site.idp.issuer})
    assert r.status_code == 303, r.text
    cookie = r.headers["set-cookie"]
    assert "hp_youth=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    # Until the tab that started the login confirms with its binding, the session is useless.
    assert (await b.http.get("/api/youth/threads")).status_code == 401
    r = await b.post_json("/api/youth/session/confirm", {"binding": binding})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    out["location"] = r.headers.get("location", "")
    return out


async def prove_and_link(b: Browser, s: YouthSession) -> httpx.Response:
    assert s.keys is not None
    ch = (await b.post_json("/api/youth/link/challenge")).json()
    msg = link_message(crypto.b64decode(ch["challenge"]), s.conversation, ch["login_session"])
    sig = _sign(msg, s.keys.me)
    return await b.post_json("/api/youth/link", {
        "conversation": s.conversation, "token": s.token, "signature": crypto.b64encode(sig),
        "sign_pk": crypto.b64encode(s.keys.me.public_key)})


def _sign(msg: bytes, me: crypto.SignKeyPair) -> bytes:
    from chat.crypto import primitives

    return primitives.sign_detached(msg, me.secret_key)


async def test_upgrade_links_with_proof_and_nurse_sees_verified(fake_site: FakeSite) -> None:
    web = fake_site.web
    y, s = await anon_chat(web)
    b = Browser(web.base)
    try:
        await register_key(b, s)
        await login(fake_site, b, {"kind": "upgrade", "conversation": s.conversation,
                                   "token": s.token, "lang": "nb"})
        r = await prove_and_link(b, s)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "linked"

        # The anonymous token is retired ...
        old = await ProtocolClient.open(ws_url(web.base, "/ws/youth"))
        await old.send({"type": "resume", "conversation": s.conversation, "token": s.token,
                        "after": 0})
        assert (await old.expect("error"))["code"] == "bad_token"
        await old.close()
        # ... and the logged-in session (cookie, same origin) reaches the thread.
        cookie = f"hp_youth={b.http.cookies['hp_youth']}"
        foreign = await ProtocolClient.open(ws_url(web.base, "/ws/youth"), additional_headers={
            "Cookie": cookie, "Origin": "http://evil.example"})
        await foreign.send({"type": "resume_session", "conversation": s.conversation, "after": 0})
        assert (await foreign.expect("error"))["code"] == "not_authorized"
        await foreign.close()
        mine = await ProtocolClient.open(ws_url(web.base, "/ws/youth"), additional_headers={
            "Cookie": cookie, "Origin": web.base})
        await mine.send({"type": "resume_session", "conversation": s.conversation, "after": 0})
        state = await mine.expect("state")
        assert state["verified"] == verified("idporten-loa-substantial", "15")
        assert s.keys is not None
        assert s.keys.open((await mine.expect("deliver"))["body"]) == "hei anonymt"
        await mine.close()

        # The nurse's state frame says verified, with level and age.
        ncookie = await nurse_login(web.base, "demo.nurse", DEMO_PASSWORD)
        n = await nurse_connect(web.base, ncookie)
        await n.send({"type": "open", "conversation": s.conversation})
        nstate = await n.expect("state", where=lambda f: f["conversation"] == s.conversation)
        assert nstate["verified"] == {"method": "idporten", "acr": "idporten-loa-substantial",
                                      "level": "substantial", "age": 15}
        await n.close()

        threads = (await b.http.get("/api/youth/threads")).json()["threads"]
        assert [t["conversation"] for t in threads] == [s.conversation]
        mine_page = await b.http.get("/mine")
        assert s.conversation in mine_page.text
    finally:
        await b.aclose()
        await y.close()
    await assert_no_pid_anywhere(web.redis_url, PID, web.log_text())


async def test_linking_without_proof_of_possession_is_refused(fake_site: FakeSite) -> None:
    web = fake_site.web
    y, s = await anon_chat(web)
    owner, other = Browser(web.base), Browser(web.base)
    try:
        await register_key(owner, s)
        # A second browser with the login (a session started for this conversation) only.
        await login(fake_site, other, {"kind": "upgrade", "conversation": s.conversation,
                                       "token": s.token, "lang": "nb"})
        r = await other.post_json("/api/youth/link", {"conversation": s.conversation})
        assert r.status_code == 403 and r.json()["error"]["code"] == "no_proof"
        await other.post_json("/api/youth/link/challenge")
        r = await other.post_json("/api/youth/link", {
            "conversation": s.conversation, "token": "A" * 43, "signature": "AAAA"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "bad_token"
        # The token without the conversation's signing key is not enough either.
        stranger = crypto.sign_keypair()
        ch = (await other.post_json("/api/youth/link/challenge")).json()
        sig = _sign(link_message(crypto.b64decode(ch["challenge"]), s.conversation,
                                 ch["login_session"]), stranger)
        r = await other.post_json("/api/youth/link", {
            "conversation": s.conversation, "token": s.token, "signature": crypto.b64encode(sig),
            "sign_pk": crypto.b64encode(stranger.public_key)})
        assert r.status_code == 403 and r.json()["error"]["code"] == "bad_proof"
        # A signature over a used challenge does not replay.
        r = await other.post_json("/api/youth/link", {
            "conversation": s.conversation, "token": s.token, "signature": crypto.b64encode(sig)})
        assert r.json()["error"]["code"] == "no_challenge"
        # A login that was not started for this conversation cannot link it, even with proof.
        await login(fake_site, owner, {"kind": "login", "lang": "nb"})
        r = await owner.post_json("/api/youth/link/challenge")
        assert r.status_code == 409 and r.json()["error"]["code"] == "no_upgrade_pending"
        raw = (await meta(fake_site, s.conversation))["raw"]
        assert "ptag" not in raw
        # And with no session at all: 401.
        anon = Browser(web.base)
        r = await anon.post_json("/api/youth/link", {"conversation": s.conversation})
        assert r.status_code == 401
        await anon.aclose()
    finally:
        await owner.aclose()
        await other.aclose()
        await y.close()


async def test_logout_both_ways_ends_the_session(fake_site: FakeSite) -> None:
    web = fake_site.web
    b = Browser(web.base)
    try:
        await login(fake_site, b, {"kind": "login", "lang": "en"}, sid="sid-frontchannel")
        assert (await b.http.get("/api/youth/threads")).status_code == 200
        # Front-channel: ID-porten frames our URL with iss and sid; no cookie is needed.
        async with httpx.AsyncClient(base_url=web.base) as idp_frame:
            bad = await idp_frame.get("/login/idporten/frontchannel-logout",
                                      params={"iss": "http://evil", "sid": "sid-frontchannel"})
            assert bad.status_code == 200
            assert (await b.http.get("/api/youth/threads")).status_code == 200
            r = await idp_frame.get("/login/idporten/frontchannel-logout",
                                    params={"iss": fake_site.idp.issuer, "sid": "sid-frontchannel"})
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store"
        assert f"frame-ancestors {fake_site.idp.issuer}" in r.headers["content-security-policy"]
        assert (await b.http.get("/api/youth/threads")).status_code == 401

        # RP-initiated: back to ID-porten with id_token_hint and a fresh state.
        await login(fake_site, b, {"kind": "login", "lang": "en"}, sid="sid-rp")
        r = await b.http.post("/logout/idporten", data={"lang": "en"})
        assert r.status_code == 303
        url = httpx.URL(r.headers["location"])
        assert str(url).startswith(fake_site.idp.issuer + "/logout")
        assert url.params["id_token_hint"].count(".") == 2
        assert url.params["post_logout_redirect_uri"] == web.base + "/login/idporten/logged-out"
        assert (await b.http.get("/api/youth/threads")).status_code == 401
        back = await b.http.get("/login/idporten/logged-out", params={"state": url.params["state"]})
        assert back.status_code == 303 and "lang=en" in back.headers["location"]
        page = await b.http.get(back.headers["location"])
        assert "You are logged out." in page.text
    finally:
        await b.aclose()


def test_verified_says_unknown_age() -> None:
    assert verified("idporten-loa-high", "unknown") == {
        "method": "idporten", "acr": "idporten-loa-high", "level": "high", "age": "unknown"}


async def test_without_idporten_the_site_is_unchanged(web: WebProcess) -> None:
    async with httpx.AsyncClient(base_url=web.base) as http:
        page = await http.get("/s/demo-skole")
        assert "upgrade-box" not in page.text and "data-idporten" not in page.text
        assert (await http.get("/mine")).status_code == 404
        assert (await http.post("/login/idporten/start", json={})).status_code in (404, 405)
        assert "set-cookie" not in page.headers


async def test_anonymous_youth_gets_no_cookie(fake_site: FakeSite) -> None:
    async with httpx.AsyncClient(base_url=fake_site.web.base) as http:
        for path in ("/", "/s/demo-skole", "/logg-inn?service=demo-skole", "/mine"):
            r = await http.get(path)
            assert r.status_code == 200, path
            assert "set-cookie" not in r.headers, path
        page = await http.get("/s/demo-skole")
        assert 'data-idporten="1"' in page.text and "upgrade-box" in page.text
        consent = await http.get("/logg-inn?service=demo-skole&lang=en")
        assert "under 16" in consent.text and re.search(r"cannot see how old you are", consent.text)
