"""HelseID-like checks in the lookalike, over real sockets, and the client's recovery."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.jwk import ECKey

from devservices.nhn.process import NhnProcess
from identity_bridge.epj.dpop import CLIENT_ASSERTION_TYPE, client_assertion, dpop_proof
from identity_bridge.epj.errors import AuthError
from identity_bridge.epj.helseid import HelseIdClient, HelseIdSettings
from identity_bridge.epj.keys import ClientKey
from identity_bridge.epj.msh import MshClient, MshSettings

from .conftest import CLIENT_ID, RECEIVER_HER, SENDER_UNIT_HER, Keys


@pytest.fixture(scope="module")
def nhn(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[NhnProcess]:
    """One lookalike for this module: these checks do not depend on stored messages."""
    proc = NhnProcess(data_dir=tmp_path_factory.mktemp("nhn-auth"), keys_file=keys.clients_file,
                      receivers=frozenset({RECEIVER_HER}))
    proc.start()
    yield proc
    proc.stop()


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    sig = jws.extract_compact(token.encode())
    return dict(sig.protected), json.loads(sig.payload)


def _settings(nhn: NhnProcess) -> HelseIdSettings:
    return HelseIdSettings(CLIENT_ID, nhn.token_endpoint, nhn.url)


def _form(assertion: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": CLIENT_ID, "scope": "nhn:msh/api",
            "client_assertion_type": CLIENT_ASSERTION_TYPE, "client_assertion": assertion}


def _nonce(nhn: NhnProcess, key: ClientKey) -> str:
    """Do the first round trip by hand: it must be a use_dpop_nonce challenge."""
    resp = httpx.post(nhn.token_endpoint,
                      data=_form(client_assertion(key, CLIENT_ID, nhn.url)),
                      headers={"DPoP": dpop_proof(key, "POST", nhn.token_endpoint)})
    assert resp.status_code == 400
    assert resp.json()["error"] == "use_dpop_nonce"
    nonce = resp.headers["DPoP-Nonce"]
    assert nonce
    return nonce


def _token_request(nhn: NhnProcess, assertion: str, proof: str) -> httpx.Response:
    return httpx.post(nhn.token_endpoint, data=_form(assertion), headers={"DPoP": proof})


def test_first_request_gets_a_nonce_then_a_bound_token(nhn: NhnProcess, keys: Keys) -> None:
    key = keys.client_key
    nonce = _nonce(nhn, key)
    resp = _token_request(nhn, client_assertion(key, CLIENT_ID, nhn.url),
                          dpop_proof(key, "POST", nhn.token_endpoint, nonce=nonce))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "DPoP"
    _, claims = _unverified(body["access_token"])
    assert claims["cnf"]["jkt"] == key.key.thumbprint()


@pytest.mark.parametrize("case", ["wrong_key", "reused_jti", "wrong_aud", "expired"])
def test_client_assertion_checks(nhn: NhnProcess, keys: Keys, case: str) -> None:
    key = keys.client_key
    nonce = _nonce(nhn, key)
    assertion = client_assertion(key, CLIENT_ID, nhn.url)
    if case == "wrong_key":
        assertion = client_assertion(ClientKey(ECKey.generate_key("P-256"), "ES256"),
                                     CLIENT_ID, nhn.url)
    elif case == "wrong_aud":
        assertion = client_assertion(key, CLIENT_ID, "https://helseid-sts.test.nhn.no")
    elif case == "expired":
        assertion = client_assertion(key, CLIENT_ID, nhn.url, now=lambda: time.time() - 600)
    elif case == "reused_jti":
        first = _token_request(nhn, assertion,
                               dpop_proof(key, "POST", nhn.token_endpoint, nonce=nonce))
        assert first.status_code == 200
    resp = _token_request(nhn, assertion, dpop_proof(key, "POST", nhn.token_endpoint,
                                                      nonce=nonce))
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_client"


@pytest.mark.parametrize("case", ["wrong_key", "reused_jti", "wrong_htu", "wrong_htm",
                                  "old_iat"])
def test_dpop_proof_checks_at_the_token_endpoint(nhn: NhnProcess, keys: Keys, case: str) -> None:
    key = keys.client_key
    nonce = _nonce(nhn, key)
    proof = dpop_proof(key, "POST", nhn.token_endpoint, nonce=nonce)
    if case == "wrong_key":
        # The header carries our public key, but another key signed the proof.
        other = ECKey.generate_key("P-256")
        header, claims = _unverified(proof)
        proof = jwt.encode(header, claims, other)
    elif case == "wrong_htu":
        proof = dpop_proof(key, "POST", nhn.url + "/connect/other", nonce=nonce)
    elif case == "wrong_htm":
        proof = dpop_proof(key, "GET", nhn.token_endpoint, nonce=nonce)
    elif case == "old_iat":
        proof = dpop_proof(key, "POST", nhn.token_endpoint, nonce=nonce,
                           now=lambda: time.time() - 3600)
    elif case == "reused_jti":
        ok = _token_request(nhn, client_assertion(key, CLIENT_ID, nhn.url), proof)
        assert ok.status_code == 200
    resp = _token_request(nhn, client_assertion(key, CLIENT_ID, nhn.url), proof)
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_dpop_proof"


async def test_client_recovers_from_nonce_and_uses_the_api(nhn: NhnProcess, keys: Keys) -> None:
    async with httpx.AsyncClient() as http:
        helseid = HelseIdClient(_settings(nhn), keys.client_key, http)
        token = await helseid.token()  # had to answer the use_dpop_nonce challenge
        assert await helseid.token() == token  # cached
        msh = MshClient(MshSettings(nhn.url), helseid, keys.client_key, http)
        assert await msh.list_incoming(SENDER_UNIT_HER) == []


async def test_resource_requests_are_bound_to_token_key_and_request(
    nhn: NhnProcess, keys: Keys
) -> None:
    url = nhn.url + "/Messages"
    params = {"ReceiverHerIds": str(SENDER_UNIT_HER)}
    async with httpx.AsyncClient() as http:
        token = await HelseIdClient(_settings(nhn), keys.client_key, http).token()
        key = keys.client_key

        async def call(proof: str, method: str = "GET") -> httpx.Response:
            return await http.request(method, url, params=params, headers={
                "Authorization": f"DPoP {token}", "DPoP": proof})

        good = dpop_proof(key, "GET", url, access_token=token)
        assert (await call(good)).status_code == 200
        replay = await call(good)
        assert replay.status_code == 401 and "jti" in replay.headers["WWW-Authenticate"]
        other = ClientKey(ECKey.generate_key("P-256"), "ES256")
        wrong_key = await call(dpop_proof(other, "GET", url, access_token=token))
        assert wrong_key.status_code == 401
        no_ath = await call(dpop_proof(key, "GET", url))
        assert no_ath.status_code == 401 and "ath" in no_ath.headers["WWW-Authenticate"]
        wrong_htm = await call(dpop_proof(key, "POST", url, access_token=token))
        assert wrong_htm.status_code == 401
        wrong_htu = await call(dpop_proof(key, "GET", nhn.url + "/Other", access_token=token))
        assert wrong_htu.status_code == 401
        bearer = await http.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
        assert bearer.status_code == 401


async def test_unknown_client_is_a_coded_auth_error(nhn: NhnProcess, keys: Keys) -> None:
    settings = HelseIdSettings("someone-else-" + uuid.uuid4().hex, nhn.token_endpoint, nhn.url)
    async with httpx.AsyncClient() as http:
        with pytest.raises(AuthError) as caught:
            await HelseIdClient(settings, keys.client_key, http).token()
    assert caught.value.code == "epj.auth.invalid_client"
