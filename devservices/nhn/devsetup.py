"""Dev setup for ``make run``: key files, the lookalike's client list and an epj.toml.

    from devservices.nhn.devsetup import dev_setup
    nhn, epj_config = dev_setup(Path("var"))   # starts the lookalike; writes var/epj/*
    # run: REDIS_URL=... python -m identity_bridge.epj.worker --config <epj_config>
    # the web process seals notes to var/epj/gateway.pub (base64 X25519 public key)

Existing files are kept, so the store and keys survive restarts of ``make run``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from identity_bridge.epj.keys import (
    ClientKey,
    load_client_key,
    load_gateway_key,
    write_client_key,
    write_gateway_key,
)

from .process import NhnProcess

CLIENT_ID = "helseprat-dev"
EPJ_CLIENT_ID = "epj-standin-dev"
SENDER_HER, SENDER_UNIT_HER, RECEIVER_HER = 8000001, 8000002, 8000100
STANDIN_CONFIG = "epj-standin.json"


def _client_key(path: Path) -> ClientKey:
    return load_client_key(path) if path.exists() else write_client_key(path)


def dev_setup(var_dir: Path, service_ids: tuple[str, ...] = ("demo",), *,
              person_key_file: Path | None = None) -> tuple[NhnProcess, Path]:
    """With ``person_key_file`` (the web process's person key) the worker also takes
    appointments from the EPJ (``[appointments]``); ``STANDIN_CONFIG`` next to the returned
    epj.toml is the EPJ stand-in's config (devservices/epj)."""
    d = var_dir / "epj"
    d.mkdir(parents=True, exist_ok=True)
    client_file, gateway_file = d / "helseid-client.jwk", d / "gateway.key"
    client = _client_key(client_file)
    standin_key_file = d / "epj-standin-client.jwk"
    standin_key = _client_key(standin_key_file)
    gateway = load_gateway_key(gateway_file) if gateway_file.exists() else \
        write_gateway_key(gateway_file)
    (d / "gateway.pub").write_text(base64.b64encode(bytes(gateway.public_key)).decode() + "\n")
    clients = d / "nhn-clients.json"
    clients.write_text(json.dumps({"clients": [
        {"client_id": CLIENT_ID, "jwk": client.public_jwk(),
         "her_ids": [SENDER_HER, SENDER_UNIT_HER]},
        {"client_id": EPJ_CLIENT_ID, "jwk": standin_key.public_jwk(), "her_ids": [RECEIVER_HER]},
    ]}))
    nhn = NhnProcess(data_dir=var_dir / "nhn", keys_file=clients,
                     receivers=frozenset({RECEIVER_HER}))
    nhn.start()
    (d / STANDIN_CONFIG).write_text(json.dumps({
        "nhn_url": nhn.url, "client_id": EPJ_CLIENT_ID, "key_file": standin_key_file.name,
        "epj": {"name": "Demo kommune EPJ", "her_id": RECEIVER_HER},
        "service": {"name": "Demo kommune", "org_number": "999999999", "her_id": SENDER_HER,
                    "unit_name": "Helsestasjon for ungdom", "unit_her_id": SENDER_UNIT_HER},
    }, indent=2))
    appointments = "" if person_key_file is None else f"""
[appointments]
person_key_file = "{person_key_file.resolve()}"
retention_days = 30
test_persons = true
"""
    receivers = "\n".join(
        f'[receivers.{sid}]\nname = "Demo kommune EPJ"\nher_id = {RECEIVER_HER}\n'
        for sid in service_ids)
    config = d / "epj.toml"
    config.write_text(f"""# written by devservices.nhn.devsetup for make run
[sender]
name = "Demo kommune"
org_number = "999999999"
her_id = {SENDER_HER}
unit_name = "Helsestasjon for ungdom"
unit_her_id = {SENDER_UNIT_HER}

{receivers}
[helseid]
client_id = "{CLIENT_ID}"
token_endpoint = "{nhn.token_endpoint}"
audience = "{nhn.url}"
key_file = "{client_file.name}"

[msh]
base_url = "{nhn.url}"

[worker]
gateway_key_file = "{gateway_file.name}"
receipt_poll_s = 2
{appointments}""")
    return nhn, config
