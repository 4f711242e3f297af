"""Start and stop the prøvesvar stand-in as a child process (tests and ``make run``).

    proc = ProvesvarProcess(data_dir=Path("var/provesvar"), keys_file=clients_json)
    proc.start()                 # a free port; proc.url is the issuer, proc.fhir_base the API
    proc.set_mode("down")        # ok | slow | down | malformed | not_json | other_person | oversized
    proc.stop()
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import httpx

from devservices.standin import ChildStandin
from identity_bridge.epj.keys import load_client_key, write_client_key

CLIENT_ID = "helseprat-provesvar-dev"


@dataclass
class ProvesvarProcess(ChildStandin):
    data_dir: Path
    keys_file: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    module: ClassVar[str] = "devservices.provesvar"
    what: ClassVar[str] = "prøvesvar stand-in"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "provesvar.log"

    def child_args(self) -> list[str]:
        return ["--data-dir", str(self.data_dir), "--keys", str(self.keys_file)]

    @property
    def fhir_base(self) -> str:
        return self.url + "/fhir"

    def set_mode(self, mode: str) -> None:
        httpx.post(self.url + "/_dev/mode", json={"mode": mode}, timeout=5).raise_for_status()

    def table(self, key_file: Path, timeout_s: float = 5.0) -> str:
        """The web process's ``[provesvar]`` table for this stand-in."""
        return (f'\n[provesvar]\nbase_url = "{self.fhir_base}"\nclient_id = "{CLIENT_ID}"\n'
                f'token_endpoint = "{self.url}/connect/token"\naudience = "{self.url}"\n'
                f'key_file = "{key_file}"\ntimeout_s = {timeout_s}\n')


def dev_setup(work: Path) -> tuple[ProvesvarProcess, Path]:
    """A client key (kept across runs), the stand-in's client list, the stand-in started;
    returns it and the key file."""
    work.mkdir(parents=True, exist_ok=True)
    key_file = work / "helseid-client.jwk"
    key = load_client_key(key_file) if key_file.exists() else write_client_key(key_file)
    clients = work / "clients.json"
    clients.write_text(json.dumps({"clients": [{"client_id": CLIENT_ID,
                                                "jwk": key.public_jwk()}]}))
    proc = ProvesvarProcess(data_dir=work, keys_file=clients)
    proc.start()
    return proc, key_file
