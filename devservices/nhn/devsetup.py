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
    load_client_key,
    load_gateway_key,
    write_client_key,
    write_gateway_key,
)

from .process import NhnProcess

CLIENT_ID = "helseprat-dev"
SENDER_HER, SENDER_UNIT_HER, RECEIVER_HER = 8000001, 8000002, 8000100


def dev_setup(var_dir: Path, service_ids: tuple[str, ...] = ("demo",)) -> tuple[NhnProcess, Path]:
    d = var_dir / "epj"
    d.mkdir(parents=True, exist_ok=True)
    client_file, gateway_file = d / "helseid-client.jwk", d / "gateway.key"
    client = load_client_key(client_file) if client_file.exists() else \
        write_client_key(client_file)
    gateway = load_gateway_key(gateway_file) if gateway_file.exists() else \
        write_gateway_key(gateway_file)
    (d / "gateway.pub").write_text(base64.b64encode(bytes(gateway.public_key)).decode() + "\n")
    clients = d / "nhn-clients.json"
    clients.write_text(json.dumps({"clients": [{
        "client_id": CLIENT_ID, "jwk": client.public_jwk(),
        "her_ids": [SENDER_HER, SENDER_UNIT_HER]}]}))
    nhn = NhnProcess(data_dir=var_dir / "nhn", keys_file=clients,
                     receivers=frozenset({RECEIVER_HER}))
    nhn.start()
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
""")
    return nhn, config
