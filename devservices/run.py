"""`make run`: the whole thing on one machine, with embedded defaults.

Starts a private Redis under ./var (unless REDIS_URL is set), the local stand-ins for the
national services (NHN's message service and HelseID's token endpoint, the ID-porten
lookalike with this server registered as its client, a Web Push service whose origin the
web server is told to allow, KS Fiks' concern-report API holding the demo municipality's
key, and the immunisation registry SYSVAK), the `epj` outbox worker, and the web server
with the demo municipality, nurse and keys; prints where to go. Production never runs this: it
runs the Procfile's processes against the real services.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from devservices.demo import DEMO_LEAD, DEMO_NURSE, DEMO_PASSWORD, ensure_demo_files
from devservices.nhn.devsetup import STANDIN_CONFIG
from devservices.pushservice.process import PushServiceProcess
from devservices.redis_proc import RedisProcess

# Push endpoints the web server may send to besides the real push services.
PUSH_ORIGINS_ENV = "HELSEPRAT_PUSH_EXTRA_ORIGINS"


def wait_http(url: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _start_idporten(data_dir: Path, base: str, env: dict[str, str]) -> Any:
    """Start the lookalike with our client registered, and point the web server at it."""
    import json

    from joserfc.jwk import RSAKey

    from devservices.idporten.process import IdPortenLookalike
    from identity_bridge.web.config import CALLBACK_PATH, FRONTCHANNEL_PATH, LOGGED_OUT_PATH

    work = data_dir / "idporten"
    work.mkdir(parents=True, exist_ok=True)
    key_file = work / "client-key.json"
    if key_file.exists():
        key = RSAKey.import_key(json.loads(key_file.read_text()))
    else:
        key = RSAKey.generate_key(2048, parameters={"kid": "helseprat-dev-1"})
        key_file.write_text(json.dumps(key.as_dict(private=True)))
        key_file.chmod(0o600)
    idp = IdPortenLookalike(
        client_id="helseprat-dev",
        redirect_uris=[base + CALLBACK_PATH],
        post_logout_redirect_uris=[base + LOGGED_OUT_PATH],
        frontchannel_logout_uri=base + FRONTCHANNEL_PATH,
        client_jwks={"keys": [key.as_dict(private=False)]},
        work_dir=work,
    )
    idp.start()
    env.update(HELSEPRAT_IDPORTEN_ISSUER=idp.issuer, HELSEPRAT_IDPORTEN_CLIENT_ID="helseprat-dev",
               HELSEPRAT_IDPORTEN_KEY_FILE=str(key_file), HELSEPRAT_IDPORTEN_TEST="1")
    return idp


def _start_epj_standin(data_dir: Path, config: Path) -> Any:
    from devservices.epj.process import EpjStandinProcess

    standin = EpjStandinProcess(config_file=config, log_dir=data_dir / "epj")
    standin.start()
    return standin


def _seed_appointment(standin: Any) -> str:
    """One upcoming appointment for the 15-year-old test person, so the demo shows it after
    logging in with that person (the same UID every run: a restart moves it, no duplicate)."""
    import datetime as dt

    from devservices.idporten.persons import make_persons
    from identity_bridge.epj.ical import OSLO

    today = dt.date.today()
    person = next(p for p in make_persons(today) if p.age == 15)
    start = dt.datetime.combine(today + dt.timedelta(days=3), dt.time(14, 0), OSLO)
    try:
        standin.publish(pid=person.pid, start=start.isoformat(), minutes=30,
                        uid="demo-appointment-1@epj.demo", sequence=int(time.time()),
                        type_code="SAMTALE", youth_only=True)
    except httpx.HTTPError:
        return "nobody (the stand-in did not take it)"
    return f"{person.name}, {person.age}"


def _start_provesvar(data_dir: Path, env: dict[str, str]) -> Any:
    """The Pasientens prøvesvar stand-in; the web server gets its ``[provesvar]`` table
    through ``HELSEPRAT_PROVESVAR_FILE``."""
    from devservices.provesvar.process import dev_setup

    work = data_dir / "provesvar"
    standin, key_file = dev_setup(work)
    table = work / "provesvar.toml"
    table.write_text(standin.table(key_file))
    env["HELSEPRAT_PROVESVAR_FILE"] = str(table)
    return standin


def _start_fiks(data_dir: Path, env: dict[str, str]) -> Any:
    """The Fiks stand-in with the demo municipality's key; the web server gets its
    ``[concern]`` table through ``HELSEPRAT_CONCERN_FILE``."""
    from devservices.fiks.devsetup import concern_table, dev_setup
    from devservices.fiks.process import FiksStandinProcess

    work = data_dir / "fiks"
    municipalities = {"demo": ("0301", "Barneverntjenesten i Demo kommune", "23 45 67 89")}
    fiks = FiksStandinProcess(config_file=dev_setup(work, municipalities), log_dir=work)
    fiks.start()
    table = work / "concern.toml"
    table.write_text(concern_table(work, fiks.url, municipalities))
    env["HELSEPRAT_CONCERN_FILE"] = str(table)
    return fiks


def _start_sysvak(data_dir: Path, env: dict[str, str]) -> Any:
    """The SYSVAK stand-in; the web server gets its ``[sysvak]`` table through
    ``HELSEPRAT_SYSVAK_FILE``."""
    from devservices.sysvak.devsetup import dev_setup as sysvak_setup
    from devservices.sysvak.devsetup import sysvak_table
    from devservices.sysvak.process import SysvakProcess

    work = data_dir / "sysvak"
    sysvak = SysvakProcess(config_file=sysvak_setup(work), data_dir=work)
    sysvak.start()
    table = work / "sysvak.toml"
    table.write_text(sysvak_table(work, sysvak.url, timeout_s=4.0))
    env["HELSEPRAT_SYSVAK_FILE"] = str(table)
    return sysvak


def main(argv: list[str] | None = None) -> int:
    from chat.server.logs import setup_logging

    # --verbose: the libraries' per-request lines too (httpx, hypercorn…), in every child.
    if "--verbose" in (sys.argv[1:] if argv is None else argv):
        os.environ["HELSEPRAT_LOG_LEVEL_THIRD_PARTY"] = "INFO"
    setup_logging()
    data_dir = Path(os.environ.get("HELSEPRAT_DATA_DIR", "var")).resolve()
    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    ensure_demo_files(data_dir)
    env = dict(os.environ, HELSEPRAT_DATA_DIR=str(data_dir))
    cleanups: list[Callable[[], None]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if not env.get("REDIS_URL"):
            redis_proc = RedisProcess(data_dir=data_dir / "redis")
            redis_proc.start()
            cleanups.append(redis_proc.stop)
            env["REDIS_URL"] = redis_proc.url
            # `helseprat nurse add` and friends find the private Redis here.
            (data_dir / "redis.url").write_text(redis_proc.url + "\n")
            cleanups.append(lambda: (data_dir / "redis.url").unlink(missing_ok=True))
        base = f"http://{host}:{port}"
        env.setdefault("HELSEPRAT_PUBLIC_URL", base)
        # Only the public host is served; a developer may type localhost instead.
        env.setdefault("HELSEPRAT_ALLOWED_HOSTS", f"localhost:{port}")

        # NHN's message service + HelseID stand-in, and the journal outbox worker.
        from devservices.nhn.devsetup import dev_setup

        nhn, epj_config = dev_setup(data_dir, ("demo-skole", "demo-hfu"),
                                    person_key_file=data_dir / "secrets" / "person_key")
        cleanups.append(nhn.stop)
        env["EPJ_CONFIG"] = str(epj_config)
        # The web side seals journal notes to the gateway key and learns the receivers from
        # the worker's own config (one source of truth).
        env["HELSEPRAT_EPJ_GATEWAY_PUB"] = str(epj_config.parent / "gateway.pub")
        env["HELSEPRAT_EPJ_WORKER_CONFIG"] = str(epj_config)
        epj = subprocess.Popen([sys.executable, "-m", "identity_bridge.epj.worker",
                                "--config", str(epj_config)], env=env)
        cleanups.append(lambda: _stop(epj))
        # The municipality's record system, publishing appointments to the worker.
        standin = _start_epj_standin(data_dir, epj_config.parent / STANDIN_CONFIG)
        cleanups.append(standin.stop)

        # Pasientens prøvesvar: every synthetic person has a few test results (FHIR),
        # for "Mine prøvesvar".
        provesvar = _start_provesvar(data_dir, env)
        cleanups.append(provesvar.stop)

        # A Web Push service: subscriptions made on it (/_test/subscriptions) can be pushed to.
        push = PushServiceProcess(log_dir=data_dir / "pushservice")
        push.start()
        cleanups.append(push.stop)
        env[PUSH_ORIGINS_ENV] = ",".join(o for o in (env.get(PUSH_ORIGINS_ENV), push.base) if o)

        # KS Fiks' concern-report API, decrypting with the demo municipality's key.
        fiks = _start_fiks(data_dir, env)
        cleanups.append(fiks.stop)

        # The immunisation registry (SYSVAK) for "Mine vaksiner".
        sysvak = _start_sysvak(data_dir, env)
        cleanups.append(sysvak.stop)

        # The ID-porten lookalike, and the web server configured as its relying party.
        idp = _start_idporten(data_dir, base, env)
        cleanups.append(idp.stop)

        subprocess.run([sys.executable, "-m", "devservices.demo"], env=env, check=True)
        web = subprocess.Popen(
            [sys.executable, "-m", "chat.cli", "serve", "--host", host,
             "--port", str(port)], env=env)
        cleanups.append(lambda: _stop(web))
        seeded = _seed_appointment(standin)
        if not wait_http(base + "/readyz"):
            print("helseprat: the web server did not come up; see the log above", file=sys.stderr)
            return 1
        print(
            "\n"
            "  helseprat is running.\n"
            f"  Youth (phone):    {base}/\n"
            f"  Nurse dashboard:  {base}/nurse\n"
            f"  Demo login:       {DEMO_NURSE} / {DEMO_PASSWORD}   (lead: {DEMO_LEAD}, same password)\n"
            f"  NHN lookalike:    {nhn.url}\n"
            f"  EPJ stand-in:     {standin.url}  (an appointment for {seeded})\n"
            f"  ID-porten (test): {idp.issuer}  (synthetic test persons aged 13-19)\n"
            f"  Prøvesvar:        {provesvar.url}  (FHIR test results, /_dev/mode)\n"
            f"  Push service:     {push.base}  (a Web Push stand-in)\n"
            f"  KS Fiks:          {fiks.url}  (concern reports, /_dev/reports)\n"
            f"  SYSVAK:           {sysvak.url}  (vaccinations, /_dev/mode)\n"
            f"  Data and Redis:   {data_dir}\n"
            "  Stop with Ctrl-C.\n",
            flush=True,
        )
        while not stopping and web.poll() is None:
            time.sleep(0.2)
        return 0 if stopping else (web.returncode or 1)
    finally:
        for cleanup in reversed(cleanups):
            with contextlib.suppress(Exception):
                cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
