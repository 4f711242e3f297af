"""Keys and config for the Fiks stand-in: per municipality an RSA key and a self-signed
certificate (what the real municipality would register with Fiks), the integration's password,
the stand-in's JSON config and the ``[concern]`` table for the services TOML."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

STANDIN_CONFIG = "fiks-standin.json"
INTEGRATION_ID = "00000000-0000-4000-8000-00000000f1c5"


def _certificate(name: str, key: rsa.RSAPrivateKey) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, name)])
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .sign(key, hashes.SHA256()))


def write_municipality(directory: Path, municipality: str, name: str) -> tuple[Path, Path]:
    """The municipality's certificate (for helseprat) and private key (for the stand-in)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert_file, key_file = directory / f"fiks-{municipality}.pem", directory / f"fiks-{municipality}.key"
    cert_file.write_bytes(_certificate(name, key).public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return cert_file, key_file


def dev_setup(directory: Path, municipalities: dict[str, tuple[str, str, str]]) -> Path:
    """``municipalities``: id -> (kommunenummer, child welfare's name, phone). Writes the
    stand-in's config and returns it; ``concern_table`` gives the TOML for the same set-up."""
    directory.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    pw_file = directory / "fiks_password"
    pw_file.write_text(password + "\n")
    pw_file.chmod(0o600)
    entries = {}
    for mid, (nummer, name, _phone) in municipalities.items():
        cert, key = write_municipality(directory, mid, name)
        entries[nummer] = {"certificate_file": cert.name, "key_file": key.name}
    config = directory / STANDIN_CONFIG
    config.write_text(json.dumps({"integration_id": INTEGRATION_ID, "password_file": pw_file.name,
                                  "municipalities": entries}, indent=2))
    return config


def concern_table(directory: Path, fiks_url: str,
                  municipalities: dict[str, tuple[str, str, str]]) -> str:
    lines = ["[concern]", f'fiks_url = "{fiks_url}"', f'integration_id = "{INTEGRATION_ID}"',
             f'integration_password_file = "{directory / "fiks_password"}"']
    for mid, (nummer, name, phone) in municipalities.items():
        lines += ["", f"[concern.municipality.{mid}]", f'kommunenummer = "{nummer}"',
                  f'name = "{name}"', f'certificate_file = "{directory / f"fiks-{mid}.pem"}"',
                  f'phone = "{phone}"']
    return "\n".join(lines) + "\n"
