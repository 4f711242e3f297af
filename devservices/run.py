"""`make run`: the whole thing on one machine, with embedded defaults.

Starts a private Redis under ./var (unless REDIS_URL is set), the local stand-ins for the
national services, and the web server with the demo municipality, nurse and keys; prints where
to go. Production never runs this: it runs the Procfile's processes against real services.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from chat.demo import DEMO_LEAD, DEMO_NURSE, DEMO_PASSWORD, ensure_demo_files
from chat.redis_proc import RedisProcess


def wait_http(url: str, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def main() -> int:
    data_dir = Path(os.environ.get("HELSEPRAT_DATA_DIR", "var")).resolve()
    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    ensure_demo_files(data_dir)
    env = dict(os.environ, HELSEPRAT_DATA_DIR=str(data_dir))
    redis_proc = None
    if not env.get("REDIS_URL"):
        redis_proc = RedisProcess(data_dir=data_dir / "redis")
        redis_proc.start()
        env["REDIS_URL"] = redis_proc.url
    base = f"http://{host}:{port}"
    env.setdefault("HELSEPRAT_PUBLIC_URL", base)
    web = subprocess.Popen(
        [sys.executable, "-m", "chat.cli", "serve", "--demo", "--host", host, "--port", str(port)],
        env=env)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if not wait_http(base + "/readyz"):
            print("helseprat: the web server did not come up; see the log above", file=sys.stderr)
            return 1
        print(
            "\n"
            "  helseprat is running.\n"
            f"  Youth (phone):    {base}/\n"
            f"  Nurse dashboard:  {base}/nurse\n"
            f"  Demo login:       {DEMO_NURSE} / {DEMO_PASSWORD}   (lead: {DEMO_LEAD}, same password)\n"
            f"  Data and Redis:   {data_dir}\n"
            "  Stop with Ctrl-C.\n",
            flush=True,
        )
        while not stopping and web.poll() is None:
            time.sleep(0.2)
        return 0 if stopping else (web.returncode or 1)
    finally:
        if web.poll() is None:
            web.send_signal(signal.SIGTERM)
            try:
                web.wait(timeout=20)
            except subprocess.TimeoutExpired:
                web.kill()
        if redis_proc is not None:
            redis_proc.stop()


if __name__ == "__main__":
    raise SystemExit(main())
