"""Fixtures for the identity-bridge tests: an RP key, a tiny fake provider over real sockets
(for crafted tokens), and the node ID-porten lookalike (for the end-to-end login)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from joserfc.jwk import RSAKey

from devservices.idporten.process import IdPortenLookalike
from devservices.redis_proc import free_port
from tests.identity_bridge.oidc.idp_fakes import FakeProvider, LookalikeHandle, serve_fake_provider


@pytest.fixture(scope="session")
def rp_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rp-key-1"})


@pytest.fixture(scope="session")
def rp_key_file(rp_key: RSAKey, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rp") / "client-key.json"
    path.write_text(json.dumps(rp_key.as_dict(private=True)))
    return path


@pytest.fixture(scope="session")
def fake_provider_server() -> Iterator[FakeProvider]:
    with serve_fake_provider("idp-key-1") as state:
        yield state


@pytest.fixture
def fake_provider(fake_provider_server: FakeProvider) -> Iterator[FakeProvider]:
    fake_provider_server.reset()
    first = fake_provider_server.signing_keys[0]
    fake_provider_server.signing_keys[:] = [first]
    yield fake_provider_server


@pytest.fixture(scope="session")
def idporten_lookalike(
    rp_key: RSAKey, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LookalikeHandle]:
    rp_base = f"http://127.0.0.1:{free_port()}"  # nothing listens: the browser never goes
    handle_args = {
        "client_id": "helseprat-test",
        "redirect_uri": rp_base + "/login/idporten/callback",
        "post_logout_redirect_uri": rp_base + "/logged-out",
        "frontchannel_logout_uri": rp_base + "/login/idporten/frontchannel-logout",
    }
    process = IdPortenLookalike(
        client_id=handle_args["client_id"],
        redirect_uris=[handle_args["redirect_uri"]],
        post_logout_redirect_uris=[handle_args["post_logout_redirect_uri"]],
        frontchannel_logout_uri=handle_args["frontchannel_logout_uri"],
        client_jwks={"keys": [rp_key.as_dict(private=False)]},
        work_dir=tmp_path_factory.mktemp("idporten"),
    )
    process.start()
    assert process.persons_file is not None
    persons = json.loads(process.persons_file.read_text(encoding="utf-8"))
    try:
        yield LookalikeHandle(process=process, persons=persons, **handle_args)
    finally:
        process.stop()
