"""Test doubles for the identity tests: a fake provider served over real sockets, and the
handle to the running lookalike. (A plain module, importable from the tests by name.)"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc.jwk import RSAKey

from devservices.idporten.process import IdPortenLookalike


@dataclass
class FakeProvider:
    """State the fake provider serves; tests mutate it between steps."""

    issuer: str
    signing_keys: list[RSAKey] = field(default_factory=list)
    discovery_issuer: str | None = None  # to serve a different issuer in discovery
    token_response: dict[str, Any] = field(default_factory=dict)
    token_status: int = 200
    par_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)

    def discovery(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": self.discovery_issuer or self.issuer,
            "authorization_endpoint": base + "/authorize",
            "token_endpoint": base + "/token",
            "jwks_uri": base + "/jwks.json",
            "pushed_authorization_request_endpoint": base + "/par",
            "end_session_endpoint": base + "/logout",
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
        }

    def reset(self) -> None:
        self.discovery_issuer = None
        self.token_response = {}
        self.token_status = 200
        self.par_requests.clear()
        self.token_requests.clear()
        self.hits.clear()


@contextlib.contextmanager
def serve_fake_provider(kid: str) -> Iterator[FakeProvider]:
    """A fake ID-porten (discovery, JWKS, PAR, token) on a free loopback port, in a thread."""
    from devservices.redis_proc import free_port

    port = free_port()
    state = FakeProvider(issuer=f"http://127.0.0.1:{port}")
    state.signing_keys.append(RSAKey.generate_key(2048, parameters={"kid": kid}))
    server = ThreadingHTTPServer(("127.0.0.1", port), provider_handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def provider_handler(state: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            state.hits[path] = state.hits.get(path, 0) + 1
            if path == "/.well-known/openid-configuration":
                self._send(200, state.discovery())
            elif path == "/jwks.json":
                keys = [k.as_dict(private=False) | {"use": "sig"} for k in state.signing_keys]
                self._send(200, {"keys": keys})
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            state.hits[path] = state.hits.get(path, 0) + 1
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if path == "/par":
                state.par_requests.append(form)
                self._send(201, {"request_uri": "urn:example:par:1", "expires_in": 60})
            elif path == "/token":
                state.token_requests.append(form)
                self._send(state.token_status, state.token_response)
            else:
                self._send(404, {"error": "not_found"})

    return Handler


@dataclass(frozen=True)
class LookalikeHandle:
    process: IdPortenLookalike
    client_id: str
    redirect_uri: str
    post_logout_redirect_uri: str
    frontchannel_logout_uri: str
    persons: list[dict[str, Any]]
