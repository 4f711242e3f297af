"""Keys and config for the SYSVAK stand-in: helseprat's HelseID client key (private, for the
web process) and the stand-in's client list (its public half), and the ``[sysvak]`` table."""

from __future__ import annotations

import json
from pathlib import Path

from identity_bridge.epj.keys import load_client_key, write_client_key

STANDIN_CONFIG = "sysvak-standin.json"
CLIENT_ID = "helseprat-sysvak-dev"
KEY_FILE = "sysvak-client.jwk"


def dev_setup(directory: Path, *, slow_s: float = 5.0) -> Path:
    """Writes (or keeps) the client key and the stand-in's config; returns the config."""
    directory.mkdir(parents=True, exist_ok=True)
    key_file = directory / KEY_FILE
    key = load_client_key(key_file) if key_file.exists() else write_client_key(key_file)
    config = directory / STANDIN_CONFIG
    config.write_text(json.dumps({"clients": [{"client_id": CLIENT_ID, "jwk": key.public_jwk()}],
                                  "slow_s": slow_s}, indent=2))
    return config


def sysvak_table(directory: Path, url: str, *, timeout_s: float = 2.0) -> str:
    """The ``[sysvak]`` TOML for a web process talking to the stand-in at ``url``."""
    return f"""
[sysvak]
url = "{url}"
client_id = "{CLIENT_ID}"
token_endpoint = "{url}/connect/token"
audience = "{url}"
key_file = "{(directory / KEY_FILE).resolve()}"
timeout_s = {timeout_s}
"""
