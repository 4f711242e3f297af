"""Relying-party checks against crafted tokens and responses, over real sockets.

A fake provider (tests/identity_bridge/oidc/conftest.py) serves discovery, JWKS, PAR and token; each
test signs its own id_token with joserfc and expects one stable error code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from identity_bridge import fnr
from identity_bridge.oidc import (
    Acr,
    IdPortenClient,
    IdTokenClaims,
    LoginResult,
    LoginStart,
    MemoryLoginSessionIndex,
    MemoryPendingStore,
    OidcConfigError,
    OidcError,
    OidcProviderError,
    PendingLogin,
    ProviderMetadata,
    RelyingPartyConfig,
    check_logout_return,
    load_signing_key,
    new_browser_binding,
    new_pending_login,
    pending_key,
    validate_id_token,
)
from tests.identity_bridge.oidc.idp_fakes import FakeProvider

CLIENT_ID = "helseprat-test"
REDIRECT = "http://127.0.0.1:9/callback"
PID = fnr.make_classic(date(2010, 5, 4))


class Clock:
    """A settable clock: tokens and the RP share it, so no test depends on timing."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


def make_config(issuer: str, key_file: Path, **kw: Any) -> RelyingPartyConfig:
    """Loopback RP URLs for loopback providers, https ones otherwise."""
    rp_base = "http://127.0.0.1:9" if issuer.startswith("http:") else "https://helseprat.example"
    base: dict[str, Any] = {
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "redirect_uri": rp_base + "/callback" if rp_base.startswith("https") else REDIRECT,
        "post_logout_redirect_uri": rp_base + "/logged-out",
        "private_key_file": key_file,
        "test_environment": True,
    }
    return RelyingPartyConfig(**(base | kw))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def rp(
    fake_provider: FakeProvider, rp_key_file: Path, clock: Clock
) -> AsyncIterator[IdPortenClient]:
    client = IdPortenClient(make_config(fake_provider.issuer, rp_key_file), clock=clock)
    yield client
    await client.aclose()


def sign(key: RSAKey, claims: dict[str, Any], kid: str | None = None) -> str:
    return jwt.encode({"alg": "RS256", "kid": kid or key.kid}, claims, key, algorithms=["RS256"])


def good_claims(fake: FakeProvider, pending: PendingLogin, now: float) -> dict[str, Any]:
    return {
        "iss": fake.issuer,
        "aud": CLIENT_ID,
        "sub": "pairwise-subject",
        "iat": int(now),
        "exp": int(now) + 120,
        "auth_time": int(now) - 5,
        "nonce": pending.nonce,
        "acr": "idporten-loa-substantial",
        "amr": ["TestID"],
        "pid": PID,
        "sid": "idporten-session-1",
        "locale": "nb",
    }


async def begin(rp: IdPortenClient, store: MemoryPendingStore) -> LoginStart:
    start = await rp.start_login(return_to="conv-1")
    await store.put(start.pending, 600)
    return start


def callback_params(fake: FakeProvider, pending: PendingLogin, **override: str) -> dict[str, str]:
    params = {"code": "code-123", "state": pending.state, "iss": fake.issuer}
    params.update(override)
    return {k: v for k, v in params.items() if v != "<absent>"}


async def login_with(
    rp: IdPortenClient,
    fake: FakeProvider,
    clock: Clock,
    mutate: Callable[[dict[str, Any]], None] = lambda c: None,
    *,
    key: RSAKey | None = None,
    kid: str | None = None,
    params: dict[str, str] | None = None,
) -> LoginResult:
    store = MemoryPendingStore()
    start = await begin(rp, store)
    claims = good_claims(fake, start.pending, clock.now)
    mutate(claims)
    token = sign(key or fake.signing_keys[0], claims, kid)
    fake.token_response = {"id_token": token, "access_token": "at", "token_type": "Bearer"}
    return await rp.complete_login(callback_params(fake, start.pending, **(params or {})), store,
                                   start.browser_binding)


async def expect_code(code: str, coro: Any) -> OidcError:
    with pytest.raises(OidcError) as err:
        await coro
    assert err.value.code == code, err.value
    return err.value


# -- the happy path, and what went over the wire ------------------------------------------


async def test_login_returns_checked_claims(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    result = await login_with(rp, fake_provider, clock)
    assert result.claims.pid.value == PID
    assert result.claims.acr is Acr.SUBSTANTIAL
    assert result.claims.sid == "idporten-session-1"
    assert result.return_to == "conv-1"
    assert PID not in repr(result)


async def test_par_and_token_requests_follow_idporten_rules(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock, rp_key: RSAKey
) -> None:
    await login_with(rp, fake_provider, clock)
    (par,) = fake_provider.par_requests
    (tok,) = fake_provider.token_requests
    assert par["response_type"] == "code"
    assert par["code_challenge_method"] == "S256"
    assert par["acr_values"] == "idporten-loa-substantial"
    assert par["redirect_uri"] == tok["redirect_uri"] == REDIRECT
    verifier_hash = hashlib.sha256(tok["code_verifier"].encode()).digest()
    assert par["code_challenge"] == base64.urlsafe_b64encode(verifier_hash).rstrip(b"=").decode()
    assert tok["grant_type"] == "authorization_code" and tok["code"] == "code-123"
    jtis = set()
    for form in (par, tok):
        assert form["client_assertion_type"].endswith("jwt-bearer")
        assertion = jwt.decode(form["client_assertion"], rp_key, algorithms=["RS256"])
        assert assertion.header["kid"] == "rp-key-1"
        c = assertion.claims
        assert c["iss"] == c["sub"] == CLIENT_ID
        assert c["aud"] == fake_provider.issuer
        assert 0 < c["exp"] - c["iat"] <= 120
        jtis.add(c["jti"])
    assert len(jtis) == 2


async def test_authorize_url_carries_only_client_id_and_request_uri(
    rp: IdPortenClient, fake_provider: FakeProvider
) -> None:
    start = await rp.start_login()
    query = parse_qs(urlsplit(start.authorize_url).query)
    assert query == {"client_id": [CLIENT_ID], "request_uri": ["urn:example:par:1"]}


async def test_discovery_is_cached_for_its_ttl(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    await rp.start_login()
    await rp.start_login()
    assert fake_provider.hits["/.well-known/openid-configuration"] == 1
    clock.now += rp.config.discovery_ttl_seconds + 1
    await rp.start_login()
    assert fake_provider.hits["/.well-known/openid-configuration"] == 2


# -- id_token checks -------------------------------------------------------------------------


async def test_wrong_signature(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    impostor = RSAKey.generate_key(2048, parameters={"kid": "idp-key-1"})  # same kid
    await expect_code("oidc_bad_signature", login_with(rp, fake_provider, clock, key=impostor))


async def test_unknown_kid_refetches_jwks_once_then_fails(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "never-published"})
    await expect_code("oidc_unknown_kid", login_with(rp, fake_provider, clock, key=stranger))
    assert fake_provider.hits["/jwks.json"] == 2


async def test_rotated_key_is_found_after_one_refetch(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    await login_with(rp, fake_provider, clock)  # caches the JWKS with idp-key-1 only
    assert fake_provider.hits["/jwks.json"] == 1
    rotated = RSAKey.generate_key(2048, parameters={"kid": "idp-key-2"})
    fake_provider.signing_keys.append(rotated)
    result = await login_with(rp, fake_provider, clock, key=rotated)
    assert result.claims.pid.value == PID
    assert fake_provider.hits["/jwks.json"] == 2


@pytest.mark.parametrize("suffix", ["/", "/other"])
async def test_id_token_iss_must_match_exactly(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock, suffix: str
) -> None:
    def mutate(c: dict[str, Any]) -> None:
        c["iss"] = fake_provider.issuer + suffix

    await expect_code("oidc_iss_mismatch", login_with(rp, fake_provider, clock, mutate))


@pytest.mark.parametrize("aud", ["someone-else", ["someone-else"], [CLIENT_ID, "someone-else"]])
async def test_wrong_audience(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock, aud: Any
) -> None:
    def mutate(c: dict[str, Any]) -> None:
        c["aud"] = aud  # the last case has two audiences and no azp

    await expect_code("oidc_aud", login_with(rp, fake_provider, clock, mutate))


async def test_expired(rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock) -> None:
    def mutate(c: dict[str, Any]) -> None:
        c["exp"] = int(clock.now) - 60

    await expect_code("oidc_expired", login_with(rp, fake_provider, clock, mutate))


@pytest.mark.parametrize("shift", [+3600, -3600])
async def test_iat_out_of_range(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock, shift: int
) -> None:
    def mutate(c: dict[str, Any]) -> None:
        c["iat"] = int(clock.now) + shift
        c["exp"] = int(clock.now) + 7200

    await expect_code("oidc_iat", login_with(rp, fake_provider, clock, mutate))


async def test_wrong_nonce(rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock) -> None:
    def mutate(c: dict[str, Any]) -> None:
        c["nonce"] = "not-the-nonce"

    await expect_code("oidc_nonce", login_with(rp, fake_provider, clock, mutate))


async def test_acr_below_minimum(
    fake_provider: FakeProvider, rp_key_file: Path, clock: Clock
) -> None:
    config = make_config(fake_provider.issuer, rp_key_file, acr_minimum=Acr.HIGH)
    rp = IdPortenClient(config, clock=clock)
    try:
        await expect_code("oidc_acr_too_low", login_with(rp, fake_provider, clock))
        assert fake_provider.par_requests[0]["acr_values"] == "idporten-loa-high"

        def high(c: dict[str, Any]) -> None:
            c["acr"] = "idporten-loa-high"

        assert (await login_with(rp, fake_provider, clock, high)).claims.acr is Acr.HIGH
    finally:
        await rp.aclose()


async def test_unknown_acr_is_too_low(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    def mutate(c: dict[str, Any]) -> None:
        c["acr"] = "Level4"

    await expect_code("oidc_acr_too_low", login_with(rp, fake_provider, clock, mutate))


async def test_missing_pid(rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock) -> None:
    def mutate(c: dict[str, Any]) -> None:
        del c["pid"]

    await expect_code("oidc_missing_pid", login_with(rp, fake_provider, clock, mutate))


async def test_pid_with_bad_checksum(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    def mutate(c: dict[str, Any]) -> None:
        c["pid"] = PID[:-1] + str((int(PID[-1]) + 1) % 10)

    err = await expect_code("oidc_bad_pid", login_with(rp, fake_provider, clock, mutate))
    assert err.detail == "fnr_checksum"


def test_synthetic_pid_refused_outside_test(rp_key_file: Path) -> None:
    # Sans-I/O: a production-shaped config (https, test flag off) and hand-made metadata.
    issuer = "https://idporten.example"
    config = make_config(issuer, rp_key_file, test_environment=False)
    meta = ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=issuer + "/authorize",
        token_endpoint=issuer + "/token",
        jwks_uri=issuer + "/jwks.json",
        pushed_authorization_request_endpoint=issuer + "/par",
        end_session_endpoint=issuer + "/logout",
        iss_parameter_supported=True,
    )
    key = RSAKey.generate_key(2048, parameters={"kid": "k"})
    now = 1_900_000_000
    claims = {"iss": issuer, "aud": CLIENT_ID, "sub": "s", "iat": now, "exp": now + 60}
    claims |= {"nonce": "n", "acr": "idporten-loa-high", "pid": "47906701517"}

    def check(config: RelyingPartyConfig) -> IdTokenClaims:
        return validate_id_token(
            sign(key, claims), keys={"k": key}, meta=meta, config=config, nonce="n", now=now
        )

    with pytest.raises(OidcError) as err:
        check(config)  # ID-porten's documented synthetic test pid, in production
    assert err.value.code == "oidc_bad_pid"
    assert err.value.detail == "fnr_synthetic_not_allowed"
    assert check(replace(config, test_environment=True)).pid.synthetic


async def test_alg_none_is_refused(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    store = MemoryPendingStore()
    start = await begin(rp, store)
    claims = good_claims(fake_provider, start.pending, clock.now)

    def b64(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    fake_provider.token_response = {"id_token": f"{b64({'alg': 'none'})}.{b64(claims)}."}
    await expect_code(
        "oidc_bad_signature",
        rp.complete_login(callback_params(fake_provider, start.pending), store, start.browser_binding),
    )


# -- authorization response checks ----------------------------------------------------------


async def test_replayed_callback_is_detected(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    store = MemoryPendingStore()
    start = await begin(rp, store)
    claims = good_claims(fake_provider, start.pending, clock.now)
    fake_provider.token_response = {"id_token": sign(fake_provider.signing_keys[0], claims)}
    params = callback_params(fake_provider, start.pending)
    await rp.complete_login(params, store, start.browser_binding)
    await expect_code("oidc_code_replay", rp.complete_login(params, store, start.browser_binding))
    assert len(fake_provider.token_requests) == 1  # the replay never reached the provider


async def test_a_callback_from_another_browser_is_refused_and_leaves_the_login(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    store = MemoryPendingStore()
    start = await begin(rp, store)
    assert start.browser_binding not in repr(start) and start.browser_binding not in start.pending.to_json()
    claims = good_claims(fake_provider, start.pending, clock.now)
    fake_provider.token_response = {"id_token": sign(fake_provider.signing_keys[0], claims)}
    params = callback_params(fake_provider, start.pending)
    for other in (None, "", new_browser_binding()):
        await expect_code("oidc_browser", rp.complete_login(params, store, other))
    assert fake_provider.token_requests == []  # refused before the code was spent
    result = await rp.complete_login(params, store, start.browser_binding)
    assert result.return_to == "conv-1"
    # A browser's cookie can be reused for its next login (several tabs share one).
    again = await rp.start_login(browser_binding=start.browser_binding)
    assert again.browser_binding == start.browser_binding
    assert again.pending.browser == start.pending.browser


async def test_tampered_state(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    store = MemoryPendingStore()
    start = await begin(rp, store)
    params = callback_params(fake_provider, start.pending, state=start.pending.state + "x")
    await expect_code("oidc_state", rp.complete_login(params, store, start.browser_binding))
    assert fake_provider.token_requests == []


async def test_expired_pending_login(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    store = MemoryPendingStore()
    start = await begin(rp, store)
    clock.now += rp.config.pending_login_ttl_seconds + 1
    params = callback_params(fake_provider, start.pending)
    await expect_code("oidc_state", rp.complete_login(params, store, start.browser_binding))


async def test_missing_iss_in_authorization_response(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    await expect_code(
        "oidc_missing_iss", login_with(rp, fake_provider, clock, params={"iss": "<absent>"})
    )
    assert fake_provider.token_requests == []


async def test_wrong_iss_in_authorization_response(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    params = {"iss": fake_provider.issuer + "/"}
    await expect_code("oidc_iss_mismatch", login_with(rp, fake_provider, clock, params=params))


async def test_error_response_is_a_provider_error_after_iss_check(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    params = {"code": "<absent>", "error": "access_denied", "error_description": "x<script>"}
    err = await expect_code(
        "oidc_provider_error", login_with(rp, fake_provider, clock, params=params)
    )
    assert isinstance(err, OidcProviderError) and err.oauth_error == "access_denied"


async def test_token_endpoint_error(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    store = MemoryPendingStore()
    start = await begin(rp, store)
    fake_provider.token_status = 400
    fake_provider.token_response = {"error": "invalid_grant"}
    err = await expect_code(
        "oidc_provider_error",
        rp.complete_login(callback_params(fake_provider, start.pending), store, start.browser_binding),
    )
    assert isinstance(err, OidcProviderError) and err.where == "token"


# -- discovery and config ---------------------------------------------------------------------


async def test_discovery_issuer_with_trailing_slash_is_refused(
    rp: IdPortenClient, fake_provider: FakeProvider
) -> None:
    fake_provider.discovery_issuer = fake_provider.issuer + "/"
    await expect_code("oidc_discovery", rp.start_login())


def test_plain_http_only_to_loopback_in_test(rp_key_file: Path) -> None:
    https_rp = {
        "redirect_uri": "https://helseprat.example/callback",
        "post_logout_redirect_uri": "https://helseprat.example/logged-out",
    }
    with pytest.raises(OidcConfigError):
        make_config("http://127.0.0.1:1", rp_key_file, test_environment=False, **https_rp)
    with pytest.raises(OidcConfigError):
        make_config("http://idporten.example", rp_key_file, test_environment=True)
    make_config("https://test.idporten.no", rp_key_file, test_environment=False)
    cfg = make_config("https://test.idporten.no", rp_key_file)
    assert cfg.discovery_url == "https://test.idporten.no/.well-known/openid-configuration"


def test_client_assertion_lifetime_capped_at_120_seconds(rp_key_file: Path) -> None:
    with pytest.raises(OidcConfigError):
        make_config("https://test.idporten.no", rp_key_file, client_assertion_lifetime_seconds=121)


# -- pending state, logout --------------------------------------------------------------------


def test_pending_login_round_trips_and_hides_secrets() -> None:
    pending = new_pending_login(1.0, return_to="conv-9")
    assert PendingLogin.from_json(pending.to_json()) == pending
    assert pending.state not in repr(pending) and pending.nonce not in repr(pending)
    assert pending.key == pending_key(pending.state) and pending.state not in pending.key


async def test_logout_url_and_return(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    result = await login_with(rp, fake_provider, clock)
    logout = await rp.start_logout(result.id_token)
    parts = urlsplit(logout.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == fake_provider.issuer + "/logout"
    assert query == {
        "id_token_hint": result.id_token,
        "post_logout_redirect_uri": rp.config.post_logout_redirect_uri,
        "state": logout.state,
    }
    check_logout_return({"state": logout.state}, logout.state)
    with pytest.raises(OidcError) as err:
        check_logout_return({"state": "forged"}, logout.state)
    assert err.value.code == "oidc_state"


async def test_frontchannel_logout_maps_sid_to_local_session(
    rp: IdPortenClient, fake_provider: FakeProvider, clock: Clock
) -> None:
    result = await login_with(rp, fake_provider, clock)
    index = MemoryLoginSessionIndex()
    assert result.claims.sid is not None
    await index.bind(result.claims.issuer, result.claims.sid, "local-session-7", 3600)
    other = {"iss": "https://evil.example", "sid": result.claims.sid}
    await expect_code("oidc_iss_mismatch", rp.frontchannel_logout(other, index))
    params = {"iss": fake_provider.issuer, "sid": result.claims.sid}
    assert await rp.frontchannel_logout(params, index) == "local-session-7"
    assert await rp.frontchannel_logout(params, index) is None  # forgotten after use
    await expect_code(
        "oidc_malformed", rp.frontchannel_logout({"iss": fake_provider.issuer}, index)
    )


async def test_nothing_secret_is_logged(
    rp: IdPortenClient,
    fake_provider: FakeProvider,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    result = await login_with(rp, fake_provider, clock)

    def mutate(c: dict[str, Any]) -> None:
        c["nonce"] = "wrong"

    with pytest.raises(OidcError):
        await login_with(rp, fake_provider, clock, mutate)
    assert "idporten login completed" in caplog.text  # the RP does log; just nothing secret
    assert "oidc_nonce" in caplog.text
    for secret in (PID, result.id_token, "code-123", fake_provider.par_requests[0]["state"]):
        assert secret not in caplog.text


def test_signing_key_from_pem_gets_registered_or_thumbprint_kid(tmp_path: Path) -> None:
    key = RSAKey.generate_key(2048)
    pem = tmp_path / "client.pem"
    pem.write_bytes(key.as_pem(private=True))
    config = make_config("https://test.idporten.no", pem)
    assert load_signing_key(config).kid == key.thumbprint()
    assert load_signing_key(replace(config, key_id="registered-kid")).kid == "registered-kid"
    public = tmp_path / "public.pem"
    public.write_bytes(key.as_pem(private=False))
    with pytest.raises(OidcConfigError):
        load_signing_key(replace(config, private_key_file=public))
