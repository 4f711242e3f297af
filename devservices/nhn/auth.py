"""HelseID-like checks: client assertions, DPoP proofs, DPoP-bound access tokens.

Each check raises ``Refused`` with an OAuth error code; the app turns that into the HTTP
answer. Replay protection (jti) is persisted in the store so it survives a restart.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, RSAKey

from identity_bridge.epj.dpop import CLIENT_ASSERTION_TYPE, ath, htu

from .store import Store

ALGS = ["RS256", "ES256", "PS256", "RS512", "PS512", "ES384"]
IAT_WINDOW_S = 60
MAX_ASSERTION_LIFETIME_S = 120
NONCE_TTL_S = 300
TOKEN_TTL_S = 600
SCOPE = "nhn:msh/api"


class Refused(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class Client:
    client_id: str
    key: RSAKey | ECKey
    her_ids: frozenset[int] = frozenset()


def load_clients(path: Path) -> dict[str, Client]:
    """``{"clients": [{"client_id": "...", "jwk": {public JWK}, "her_ids": [..]}]}``."""
    obj = json.loads(path.read_text())
    out = {}
    for item in obj["clients"]:
        key = JWKRegistry.import_key(item["jwk"])
        if not isinstance(key, RSAKey | ECKey):
            raise ValueError("client keys must be RSA or EC")
        out[item["client_id"]] = Client(item["client_id"], key,
                                        frozenset(int(h) for h in item.get("her_ids", [])))
    return out


def load_or_make_server_key(path: Path) -> ECKey:
    """The key that signs access tokens, kept in the data dir so tokens survive a restart."""
    if path.exists():
        key = ECKey.import_key(json.loads(path.read_text()))
        return key
    key = ECKey.generate_key("P-256")
    path.write_text(json.dumps(key.as_dict(private=True)))
    path.chmod(0o600)
    return key


@dataclass
class Nonces:
    """DPoP nonces we handed out (memory only: after a restart clients are simply asked again)."""

    issued: dict[str, float] = field(default_factory=dict)

    def new(self) -> str:
        now = time.time()
        for n, exp in list(self.issued.items()):
            if exp < now:
                del self.issued[n]
        value = secrets.token_urlsafe(16)
        self.issued[value] = now + NONCE_TTL_S
        return value

    def valid(self, value: object) -> bool:
        return isinstance(value, str) and self.issued.get(value, 0.0) >= time.time()


@dataclass(frozen=True)
class Proof:
    jkt: str
    claims: dict[str, Any]


def check_dpop(proof: str | None, method: str, url: str, store: Store) -> Proof:
    """Signature by the embedded key, typ, htm, htu, iat window (the jti is checked later)."""
    if not proof:
        raise Refused("invalid_dpop_proof", "DPoP header missing")
    try:
        header = jws.extract_compact(proof.encode()).protected
        if header.get("typ") != "dpop+jwt" or header.get("alg") not in ALGS:
            raise Refused("invalid_dpop_proof", "typ or alg not allowed")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict) or any(k in jwk for k in ("d", "p", "q")):
            raise Refused("invalid_dpop_proof", "jwk missing or private")
        key = JWKRegistry.import_key(jwk)
        token = jwt.decode(proof, key, algorithms=ALGS)
    except Refused:
        raise
    except (JoseError, ValueError, TypeError, KeyError):
        raise Refused("invalid_dpop_proof", "proof signature or format invalid") from None
    claims = dict(token.claims)
    if claims.get("htm") != method.upper():
        raise Refused("invalid_dpop_proof", "htm does not match the request")
    if claims.get("htu") != htu(url):
        raise Refused("invalid_dpop_proof", "htu does not match the request")
    iat = claims.get("iat")
    if not isinstance(iat, int) or abs(time.time() - iat) > IAT_WINDOW_S:
        raise Refused("invalid_dpop_proof", "iat outside the accepted window")
    if not isinstance(claims.get("jti"), str):
        raise Refused("invalid_dpop_proof", "jti missing")
    return Proof(key.thumbprint(), claims)


def spend_jti(proof: Proof, store: Store) -> None:
    if not store.use_jti("dpop:" + proof.claims["jti"], time.time() + 2 * IAT_WINDOW_S):
        raise Refused("invalid_dpop_proof", "jti already used")


def check_client_assertion(
    form: dict[str, str], clients: dict[str, Client], audience: str, store: Store
) -> Client:
    if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
        raise Refused("invalid_client", "client_assertion_type missing or wrong", 401)
    client = clients.get(form.get("client_id", ""))
    if client is None:
        raise Refused("invalid_client", "unknown client", 401)
    try:
        token = jwt.decode(form.get("client_assertion", ""), client.key, algorithms=ALGS)
    except (JoseError, ValueError, TypeError):
        raise Refused("invalid_client", "client assertion signature invalid", 401) from None
    if token.header.get("typ") not in ("client-authentication+jwt", "JWT", None):
        raise Refused("invalid_client", "client assertion typ not allowed", 401)
    c = token.claims
    now = time.time()
    if c.get("iss") != client.client_id or c.get("sub") != client.client_id:
        raise Refused("invalid_client", "iss and sub must be the client id", 401)
    aud = c.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise Refused("invalid_client", "aud is not this issuer", 401)
    exp, iat = c.get("exp"), c.get("iat", now)
    if not isinstance(exp, int) or exp <= now:
        raise Refused("invalid_client", "client assertion expired", 401)
    if not isinstance(iat, int | float) or exp - iat > MAX_ASSERTION_LIFETIME_S:
        raise Refused("invalid_client", "client assertion lives too long", 401)
    jti = c.get("jti")
    if not isinstance(jti, str) or not store.use_jti("ca:" + jti, float(exp)):
        raise Refused("invalid_client", "client assertion jti missing or reused", 401)
    return client


def issue_token(server_key: ECKey, issuer: str, client: Client, jkt: str,
                scope: str = SCOPE) -> tuple[str, int]:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "client_id": client.client_id,
        "scope": scope,
        "iat": now,
        "exp": now + TOKEN_TTL_S,
        "jti": str(uuid.uuid4()),
        "cnf": {"jkt": jkt},
    }
    return jwt.encode({"alg": "ES256", "typ": "at+jwt"}, claims, server_key), TOKEN_TTL_S


def check_resource(
    authorization: str | None,
    proof_header: str | None,
    method: str,
    url: str,
    server_key: ECKey,
    issuer: str,
    store: Store,
    scope: str = SCOPE,
) -> dict[str, Any]:
    """A DPoP-bound access token plus a proof over this request; returns the token claims."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme != "DPoP" or not token:
        raise Refused("invalid_token", "Authorization: DPoP <token> required", 401)
    try:
        claims = dict(jwt.decode(token, server_key, algorithms=["ES256"]).claims)
    except (JoseError, ValueError, TypeError):
        raise Refused("invalid_token", "access token invalid", 401) from None
    if claims.get("iss") != issuer or int(claims.get("exp", 0)) <= time.time():
        raise Refused("invalid_token", "access token expired or foreign", 401)
    if scope not in str(claims.get("scope", "")).split():
        raise Refused("insufficient_scope", f"scope {scope} required", 403)
    try:
        proof = check_dpop(proof_header, method, url, store)
    except Refused as exc:
        raise Refused(exc.error, exc.description, 401) from None
    if proof.jkt != claims.get("cnf", {}).get("jkt"):
        raise Refused("invalid_dpop_proof", "proof key is not the token's key", 401)
    if proof.claims.get("ath") != ath(token):
        raise Refused("invalid_dpop_proof", "ath does not match the token", 401)
    try:
        spend_jti(proof, store)
    except Refused as exc:
        raise Refused(exc.error, exc.description, 401) from None
    return claims
