"""How long a wrong resume code takes to be refused: for a handle that exists, and for one that
does not. The two should be the same (both do one argon2id verification); before the dummy
verification an unknown handle was refused without any.

    .venv/bin/python -m bench.resume_timing --tries 40
    BENCH_SERVER_ROOT=/work/main .venv/bin/python -m bench.resume_timing --tries 40

One web process and a private Redis (bench.env), the resume limits raised so that every try
is checked. Tries are sequential and alternate known / unknown, each on a fresh WebSocket;
the time is from sending ``resume_code`` to the ``error`` frame, measured by this client.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from anon.resume import new_resume_code
from bench.env import SERVICE, BenchEnv
from chat.client.protocol import ProtocolClient, ws_url
from chat.crypto import b64encode
from chat.crypto.resume import resume_auth

ROOMY = ("[limits]\nresume_attempts_per_conversation = 100000000\n"
         "resume_attempts_per_client_per_hour = 100000000\n")


async def known_handle(base: str) -> str:
    code = new_resume_code()
    c = await ProtocolClient.open(ws_url(base, "/ws/youth"))
    await c.send({"type": "start", "service": SERVICE, "resume": {
        "handle": code.handle_text, "auth": resume_auth(code.secret_text),
        "backup": b64encode(b"\x00" * 80)}})
    await c.expect("started")
    await c.close()
    return code.handle_text


async def one_try(base: str, handle: str) -> tuple[float, str]:
    c = await ProtocolClient.open(ws_url(base, "/ws/youth"))
    auth = resume_auth(new_resume_code().secret_text)
    t0 = time.perf_counter()
    await c.send({"type": "resume_code", "handle": handle, "auth": auth})
    frame = await c.expect("error", timeout=30)
    elapsed = time.perf_counter() - t0
    await c.close()
    return elapsed * 1000, str(frame["code"])


async def measure(base: str, tries: int) -> dict[str, list[float]]:
    known = await known_handle(base)
    out: dict[str, list[float]] = {"known": [], "unknown": []}
    for _ in range(3):  # warm-up: first argon2 call, connections, caches
        await one_try(base, known)
        await one_try(base, new_resume_code().handle_text)
    for _ in range(tries):
        for name, handle in (("known", known), ("unknown", new_resume_code().handle_text)):
            ms, code = await one_try(base, handle)
            if code != "bad_resume_code":
                raise RuntimeError(f"{name}: {code}")
            out[name].append(ms)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tries", type=int, default=40)
    args = ap.parse_args()
    with BenchEnv() as env:
        toml = env.data_dir / "services.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace("[limits]\n", ROOMY, 1),
                        encoding="utf-8")
        web = env.web()
        times = asyncio.run(measure(web.base, args.tries))
    print(f"{'handle':8} {'tries':>5} {'median ms':>10} {'p10 ms':>8} {'p90 ms':>8}")
    for name, ms in times.items():
        deciles = statistics.quantiles(ms, n=10)
        print(f"{name:8} {len(ms):5d} {statistics.median(ms):10.1f} {deciles[0]:8.1f} {deciles[-1]:8.1f}")


if __name__ == "__main__":
    main()
