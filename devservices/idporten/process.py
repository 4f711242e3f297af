"""Start and stop the ID-porten lookalike (``idporten.mjs``) as a child process.

Used by the tests and by ``make run``::

    lookalike = IdPortenLookalike(
        client_id="helseprat-dev",
        redirect_uris=("http://127.0.0.1:8000/login/idporten/callback",),
        client_jwks={"keys": [public_jwk]},
    )
    lookalike.start()          # free port, waits until discovery answers
    lookalike.issuer           # http://127.0.0.1:PORT — put it in the RP config
    lookalike.stop()

or from a shell: ``python -m devservices.idporten.process --client-id … --redirect-uri …
--jwks client-public-jwks.json [--port N] [--persons persons.json]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from devservices.redis_proc import free_port

from .persons import write_persons

SCRIPT = Path(__file__).with_name("idporten.mjs")
# oidc-provider is an npm dependency of the project (package.json); node finds it by walking
# up from the script to ./node_modules, so the script must stay inside the repository.
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class IdPortenLookalike:
    client_id: str
    redirect_uris: Sequence[str]
    client_jwks: Mapping[str, Any]
    post_logout_redirect_uris: Sequence[str] = ()
    frontchannel_logout_uri: str | None = None
    port: int = 0
    persons_file: Path | None = None
    work_dir: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _workdir(self) -> Path:
        if self.work_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="idporten-")
            self.work_dir = Path(self._tmp.name)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        return self.work_dir

    def _write_config(self, work: Path) -> Path:
        if self.persons_file is None:
            self.persons_file = write_persons(work / "persons.json", date.today())
        client: dict[str, Any] = {
            "client_id": self.client_id,
            "redirect_uris": list(self.redirect_uris),
            "post_logout_redirect_uris": list(self.post_logout_redirect_uris),
            "jwks": dict(self.client_jwks),
        }
        if self.frontchannel_logout_uri:
            client["frontchannel_logout_uri"] = self.frontchannel_logout_uri
        config = {
            "port": self.port,
            "issuer": self.issuer,
            "persons_file": str(self.persons_file),
            "clients": [client],
        }
        path = work / "config.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        return path

    def start(self, timeout: float = 20.0) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed (Node 20 runs oidc-provider 8.x)")
        if not self.port:
            self.port = free_port()
        work = self._workdir()
        config = self._write_config(work)
        log = (work / "idporten.log").open("wb")
        # Fixed argv, no shell: the only inputs are our own script and config paths.
        self.proc = subprocess.Popen(
            [node, str(SCRIPT), str(config)],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_for_discovery(timeout, work / "idporten.log")

    def _wait_for_discovery(self, timeout: float, log_path: Path) -> None:
        url = self.issuer + "/.well-known/openid-configuration"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"idporten lookalike exited early:\n{tail}")
            try:
                if httpx.get(url, timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("idporten lookalike did not answer discovery in time")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self.work_dir = None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the local ID-porten lookalike.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--redirect-uri", action="append", required=True)
    parser.add_argument("--post-logout-redirect-uri", action="append", default=[])
    parser.add_argument("--frontchannel-logout-uri")
    parser.add_argument("--jwks", type=Path, required=True, help="the client's public JWKS")
    parser.add_argument("--persons", type=Path, help="persons JSON (default: generated)")
    parser.add_argument("--work-dir", type=Path)
    args = parser.parse_args(argv)
    lookalike = IdPortenLookalike(
        client_id=args.client_id,
        redirect_uris=args.redirect_uri,
        post_logout_redirect_uris=args.post_logout_redirect_uri,
        frontchannel_logout_uri=args.frontchannel_logout_uri,
        client_jwks=json.loads(args.jwks.read_text(encoding="utf-8")),
        port=args.port,
        persons_file=args.persons,
        work_dir=args.work_dir,
    )
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)  # sigwait needs them blocked
    lookalike.start()
    print(f"ID-porten lookalike: {lookalike.issuer}", flush=True)
    try:
        signal.sigwait(stop_signals)
    finally:
        lookalike.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
