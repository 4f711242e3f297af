"""Key files. Secrets come from files, never from the environment or Redis.

- HelseID client key: a private JWK (JSON) or a PKCS#8 PEM; RSA (RS256) or EC P-256 (ES256).
- Journal gateway key: X25519 private key, 32 raw bytes or their base64.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path

from joserfc.jwk import ECKey, RSAKey
from nacl.public import PrivateKey

from .errors import ConfigError

SigningKey = RSAKey | ECKey


@dataclass(frozen=True)
class ClientKey:
    """A signing key and the JWS algorithm that goes with it."""

    key: SigningKey
    alg: str
    kid: str | None = None

    def public_jwk(self) -> dict[str, object]:
        return dict(self.key.as_dict(private=False))


def load_client_key(path: Path) -> ClientKey:
    try:
        raw = path.read_bytes()
    except OSError:
        raise ConfigError(f"cannot read the client key file {path.name}") from None
    kid: str | None = None
    try:
        if raw.lstrip().startswith(b"{"):
            obj = json.loads(raw)
            kid = obj.get("kid")
            key: SigningKey = (
                RSAKey.import_key(obj) if obj.get("kty") == "RSA" else ECKey.import_key(obj)
            )
        else:
            key = _import_pem(raw)
    except (ValueError, TypeError, KeyError):
        raise ConfigError("the client key file is not a usable RSA or EC private key") from None
    if not key.is_private:
        raise ConfigError("the client key file holds a public key only")
    if isinstance(key, RSAKey):
        return ClientKey(key, "RS256", kid)
    if key.curve_name != "P-256":
        raise ConfigError("EC client keys must be P-256 (ES256)")
    return ClientKey(key, "ES256", kid)


def _import_pem(raw: bytes) -> SigningKey:
    try:
        return RSAKey.import_key(raw)
    except (ValueError, TypeError):
        return ECKey.import_key(raw)


def load_gateway_key(path: Path) -> PrivateKey:
    try:
        raw = path.read_bytes()
    except OSError:
        raise ConfigError(f"cannot read the gateway key file {path.name}") from None
    if len(raw) != 32:
        try:
            raw = base64.b64decode(raw.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError("the gateway key file is neither 32 bytes nor base64") from None
    if len(raw) != 32:
        raise ConfigError("the gateway key must be 32 bytes (X25519)")
    return PrivateKey(raw)


def write_gateway_key(path: Path) -> PrivateKey:
    """Generate a gateway key file (dev setup and tests); mode 0600."""
    key = PrivateKey.generate()
    path.write_bytes(base64.b64encode(bytes(key)) + b"\n")
    path.chmod(0o600)
    return key


def write_client_key(path: Path, kind: str = "EC") -> ClientKey:
    """Generate a client key file as a private JWK (dev setup and tests); mode 0600."""
    key: SigningKey = RSAKey.generate_key(2048) if kind == "RSA" else ECKey.generate_key("P-256")
    jwk = dict(key.as_dict(private=True))
    jwk["kid"] = key.thumbprint()
    path.write_text(json.dumps(jwk))
    path.chmod(0o600)
    return load_client_key(path)
