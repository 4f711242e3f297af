"""Server CPU per re-attaching client, without the noise of a restart.

    .venv/bin/python -m bench.resume_cost 2400 --rounds 2
    BENCH_SERVER_ROOT=/path/to/other/checkout .venv/bin/python -m bench.resume_cost 2400

Sets up PAIRS youth/nurse pairs (24 conversations per nurse connection) with the generator's
own clients, in this one process, against one web process. Then, per phase, it cuts every
client's socket at once (as a dead peer: no closing handshake), waits until each has
reconnected over a new WebSocket and re-attached (youth: ``resume`` until ``state``; nurse:
``open`` of each conversation until ``history_end``), and reports the web process's CPU
seconds (psutil) per client. ``bare`` is the floor: connect, one ping, cut. The server also
runs its ``on_close`` for the cut sockets here, which a kill -9 (``bench.run storm``) skips.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

import psutil
from websockets.asyncio.client import connect

from bench.env import BenchEnv, login, raise_nofile
from bench.loadgen import Client, Worker, now, ws_url


def _cpu(p: psutil.Process) -> float:
    t = p.cpu_times()
    return float(t.user + t.system)


async def _cut(clients: list[Client]) -> None:
    for c in clients:
        ws = c.ws
        if ws is not None:
            ws.transport.abort()


async def _back(clients: list[Client], since: float, timeout: float = 120.0) -> float:
    deadline = now() + timeout
    while now() < deadline:
        if all(c.resumed_at is not None and c.resumed_at > since for c in clients):
            return now() - since
        await asyncio.sleep(0.02)
    raise TimeoutError("not every client re-attached")


async def _bare(base: str, n: int) -> None:
    sem = asyncio.Semaphore(200)

    async def one() -> None:
        async with sem:
            ws = await connect(ws_url(base, "/ws/youth"), compression="deflate")
            await ws.send('{"v":1,"type":"ping"}')
            await ws.recv()
            ws.transport.abort()

    await asyncio.gather(*(one() for _ in range(n)))


async def run(base: str, pid: int, pairs: int, rounds: int) -> None:
    cookie = await asyncio.to_thread(login, base)
    w = Worker(None)  # type: ignore[arg-type]  # commands are called directly, not over a pipe
    setup = await w.cmd_pairs(base, base, cookie, pairs, 24, None, concurrency=80)
    print(f"setup: {setup['pairs']} pairs, {setup['clients']} clients in {setup['seconds']:.1f} s",
          flush=True)
    server, me = psutil.Process(pid), psutil.Process()
    await asyncio.sleep(2.0)
    phases: list[tuple[str, list[Client]]] = [
        ("youth", list(w.youths)), ("nurse", list(w.nurses)), ("both", [*w.youths, *w.nurses])]
    for r in range(rounds):
        c0, t0 = _cpu(server), now()
        await _bare(base, pairs)
        await asyncio.sleep(1.0)
        print(f"round {r + 1} bare  n={pairs:5d}: wall {now() - t0:5.2f} s, server "
              f"{_cpu(server) - c0:5.2f} CPU-s = {1000 * (_cpu(server) - c0) / pairs:5.2f} ms/client",
              flush=True)
        for name, group in phases:
            await asyncio.sleep(1.5)
            c0, g0, t0 = _cpu(server), _cpu(me), now()
            await _cut(group)
            took = await _back(group, t0)
            await asyncio.sleep(0.5)
            used, gen = _cpu(server) - c0, _cpu(me) - g0
            print(f"round {r + 1} {name:5s} n={len(group):5d}: wall {took:5.2f} s, server {used:5.2f} "
                  f"CPU-s = {1000 * used / len(group):5.2f} ms/client; generator {gen:5.2f} CPU-s",
                  flush=True)
    with contextlib.suppress(Exception):
        await w.close_all()


def main() -> None:
    ap = argparse.ArgumentParser(prog="bench.resume_cost", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pairs", type=int, nargs="?", default=2400)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    raise_nofile()
    import uvloop

    with BenchEnv() as env:
        web = env.web()
        uvloop.run(run(web.base, web.pid, a.pairs, a.rounds))


if __name__ == "__main__":
    main()
