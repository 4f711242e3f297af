"""What waiting for a replica costs: per-message latency and server CPU, with
HELSEPRAT_REDIS_WAIT_REPLICAS at 0 and at 1, on a loopback Redis Cluster (3 primaries, 3
replicas: devservices/redis_cluster.py).

    .venv/bin/python -m bench.durability
    .venv/bin/python -m bench.durability --pairs 50 --rate 400 --seconds 15 --rounds 3
    .venv/bin/python -m bench.durability --before /path/to/checkout/before/the/change

``--before``: each round also runs a web process from that checkout (setting 0), next to this
one's, so the shared machine's drift hits both alike. BENCH_SERVER_ROOT (bench/env.py) points
this one elsewhere too.

For each setting (in turn, ``--rounds`` times, so a drift of the shared machine shows): a fresh
web process on an emptied cluster, ``--pairs`` youth/nurse pairs (one nurse connection holds
every conversation), then

* **one at a time**: ``--singles`` messages, youth and nurse by turns, each sent only when the
  one before it is acked and delivered: the *ack* latency (send → the sender's ``ack``) and the
  *relay* latency (send → the other side's ``deliver``) of a message on an idle server;
* **at a rate**: ``--rate`` messages per second over every pair for ``--seconds``: the web
  process's CPU (user + system, psutil) and the six cluster nodes' CPU per message, above what
  each spends idle over as long (measured just before), and the relay latency under that load.

Each conversation first sends one message each way, unmeasured (connections made, scripts
loaded on its node).

Frames are the protocol's own (no E2E sealing: the bench service has no team key, and the
sealing is the browser's cost, not the server's). Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.env import BENCH_SERVICES, NURSE, PASSWORD, SERVICE, Web, raise_nofile
from chat.client.protocol import ProtocolClient, nurse_login, ws_url
from chat.durability import REPLICAS_ENV, TIMEOUT_ENV
from devservices.demo import write_secret
from devservices.redis_cluster import RedisCluster

BODY = "aGVpLCBoZXIgZXIgZW4gbWVsZGluZyBww6UgZW4gdnJpZGUgc3RvcnJlbHNl"  # ~45 bytes as text


def now() -> float:
    return time.perf_counter()


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


@dataclass
class Side:
    """One socket: when each of its messages was sent, acked; when each other's arrived."""

    client: ProtocolClient
    sent: dict[str, float] = field(default_factory=dict)
    acked: dict[str, float] = field(default_factory=dict)
    got: dict[str, float] = field(default_factory=dict)
    waiters: dict[str, asyncio.Event] = field(default_factory=dict)

    async def read(self) -> None:
        while True:
            raw = await self.client.ws.recv()
            t = now()
            f = json.loads(raw)
            kind, cmid = f.get("type"), f.get("cmid", "")
            if kind == "ack":
                self.acked[cmid] = t
            elif kind == "deliver":
                self.got[cmid] = t
            else:
                continue
            ev = self.waiters.pop(cmid, None)
            if ev is not None:
                ev.set()


@dataclass
class Pair:
    cid: str
    youth: Side


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def add_nurse(url: str, data_dir: Path) -> None:
    from chat.actions.accounts import Accounts, hash_password
    from chat.clock import SystemClock
    from chat.config import load_config
    from chat.store.client import connect

    config = load_config({"HELSEPRAT_DATA_DIR": str(data_dir), "REDIS_URL": url})
    client = connect(url)
    await client.flushall()
    await Accounts(config, client, SystemClock()).add(
        NURSE, "", "nurse", "Bench Nurse", password_hash=hash_password(PASSWORD))
    await client.aclose()


async def open_raw(url: str, **kwargs: Any) -> ProtocolClient:
    """A socket whose frames the bench reads itself (no inbox reader)."""
    from websockets.asyncio.client import connect

    ws = await connect(url, max_size=2**20, open_timeout=20, **kwargs)
    return ProtocolClient(ws)


async def next_frame(c: ProtocolClient, kind: str) -> dict[str, Any]:
    while True:
        f: dict[str, Any] = json.loads(await c.ws.recv())
        if f.get("type") == kind:
            return f


async def set_up(base: str, pairs: int) -> tuple[list[Pair], Side]:
    cookie = await nurse_login(base, NURSE, PASSWORD)
    nurse_raw = await open_raw(ws_url(base, "/ws/nurse"),
                               additional_headers={"Cookie": f"hp_session={cookie}",
                                                   "Origin": base})
    await next_frame(nurse_raw, "hello")
    out: list[Pair] = []
    for _ in range(pairs):
        y = await open_raw(ws_url(base, "/ws/youth"))
        await y.send({"type": "start", "service": SERVICE})
        cid = (await next_frame(y, "started"))["conversation"]
        await nurse_raw.send({"type": "claim", "conversation": cid})
        while (await next_frame(nurse_raw, "history_end"))["conversation"] != cid:
            pass
        out.append(Pair(cid, Side(y)))
    return out, Side(nurse_raw)


async def send(side: Side, cmid: str, cid: str | None) -> asyncio.Event:
    ev = asyncio.Event()
    side.waiters[cmid] = ev
    side.sent[cmid] = now()
    frame: dict[str, Any] = {"type": "send", "cmid": cmid, "body": BODY}
    if cid is not None:
        frame["conversation"] = cid
    await side.client.send(frame)
    return ev


@dataclass
class Figures:
    ack_ms: list[float] = field(default_factory=list)
    relay_ms: list[float] = field(default_factory=list)
    loaded_relay_ms: list[float] = field(default_factory=list)
    server_us: float = 0.0
    redis_us: float = 0.0
    delivered: int = 0
    offered: int = 0


async def measure(base: str, web_pid: int, redis_pids: list[int], pairs: int, singles: int,
                  rate: float, seconds: float, tag: str) -> Figures:
    ps, nurse = await set_up(base, pairs)
    readers = [asyncio.create_task(p.youth.read()) for p in ps]
    readers.append(asyncio.create_task(nurse.read()))
    fig = Figures()
    try:
        warm_up = 2 * len(ps)  # each conversation both ways: connections, scripts loaded
        for i in range(warm_up + singles):  # one at a time: acked and delivered before the next
            p = ps[i % len(ps)]
            youth_turn = (i // len(ps)) % 2 == 0 if i < warm_up else i % 2 == 0
            sender, receiver = (p.youth, nurse) if youth_turn else (nurse, p.youth)
            cmid = f"{tag}-one-{i:06d}"
            done = asyncio.Event()
            receiver.waiters[cmid] = done
            acked = await send(sender, cmid, None if youth_turn else p.cid)
            await asyncio.wait_for(asyncio.gather(acked.wait(), done.wait()), 30)
            if i >= warm_up:
                fig.ack_ms.append(1000 * (sender.acked[cmid] - sender.sent[cmid]))
                fig.relay_ms.append(1000 * (receiver.got[cmid] - sender.sent[cmid]))
        web, nodes = psutil.Process(web_pid), [psutil.Process(p) for p in redis_pids]
        # What the processes spend doing nothing (jobs, cluster cron) over as long: subtracted.
        c_web, c_redis, t_idle = cpu_seconds([web]), cpu_seconds(nodes), now()
        await asyncio.sleep(seconds)
        idle_web = (cpu_seconds([web]) - c_web) / (now() - t_idle)
        idle_redis = (cpu_seconds(nodes) - c_redis) / (now() - t_idle)
        c_web, c_redis, t_load = cpu_seconds([web]), cpu_seconds(nodes), now()
        interval, t0 = 1.0 / rate, now()
        sent: list[tuple[Side, Side, str]] = []
        for i in range(int(rate * seconds)):  # at a rate: youth and nurse by turns
            due = t0 + i * interval
            if (wait := due - now()) > 0:
                await asyncio.sleep(wait)
            p = ps[i % len(ps)]
            youth_turn = (i // len(ps)) % 2 == 0
            sender, receiver = (p.youth, nurse) if youth_turn else (nurse, p.youth)
            cmid = f"{tag}-load-{i:07d}"
            sent.append((sender, receiver, cmid))
            sender.sent[cmid] = now()
            frame: dict[str, Any] = {"type": "send", "cmid": cmid, "body": BODY}
            if not youth_turn:
                frame["conversation"] = p.cid
            await sender.client.send(frame)
        await asyncio.sleep(2.0)  # the last ones delivered
        span = now() - t_load
        fig.server_us = 1e6 * (cpu_seconds([web]) - c_web - idle_web * span) / len(sent)
        fig.redis_us = 1e6 * (cpu_seconds(nodes) - c_redis - idle_redis * span) / len(sent)
        fig.offered = len(sent)
        for sender, receiver, cmid in sent:
            if cmid in receiver.got:
                fig.delivered += 1
                fig.loaded_relay_ms.append(1000 * (receiver.got[cmid] - sender.sent[cmid]))
    finally:
        for t in readers:
            t.cancel()
        for p in ps:
            with contextlib.suppress(Exception):
                await p.youth.client.ws.close()
        with contextlib.suppress(Exception):
            await nurse.client.ws.close()
    return fig


def report(name: str, f: Figures) -> str:
    return (f"{name:>9} | {statistics.median(f.ack_ms):6.2f} {pct(f.ack_ms, 0.99):6.2f} | "
            f"{statistics.median(f.relay_ms):6.2f} {pct(f.relay_ms, 0.99):6.2f} | "
            f"{statistics.median(f.loaded_relay_ms):6.2f} {pct(f.loaded_relay_ms, 0.99):7.2f} | "
            f"{f.server_us:7.0f} {f.redis_us:7.0f} | {f.delivered}/{f.offered}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=50)
    ap.add_argument("--singles", type=int, default=400)
    ap.add_argument("--rate", type=float, default=400.0, help="messages per second, all pairs")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--timeout-ms", type=int, default=250)
    ap.add_argument("--settings", default="0,1", help=f"values of {REPLICAS_ENV} to run")
    ap.add_argument("--before", type=Path, help="a checkout to run first in each round (0)")
    args = ap.parse_args()
    runs: list[tuple[str, int, Path | None]] = [("before", 0, args.before)] if args.before else []
    runs += [(f"wait {int(x)}", int(x), None) for x in args.settings.split(",")]
    raise_nofile()
    with tempfile.TemporaryDirectory(prefix="helseprat-durability-") as tmp:
        root = Path(tmp)
        data_dir = root / "data"
        data_dir.mkdir()
        (data_dir / "services.toml").write_text(BENCH_SERVICES, encoding="utf-8")
        for name in ("token_key", "session_key"):
            write_secret(data_dir / "secrets" / name)
        cluster = RedisCluster(root / "cluster")
        cluster.start()
        try:
            redis_pids = [n.proc.pid for n in cluster.nodes if n.proc is not None]
            print(f"loopback cluster 3+3, {args.pairs} pairs, {args.singles} messages one at a "
                  f"time, {args.rate:.0f} msg/s for {args.seconds:.0f} s; "
                  f"{REPLICAS_ENV}=1 with {TIMEOUT_ENV}={args.timeout_ms}", flush=True)
            print("  setting |  ack ms p50  p99 | relay ms p50 p99 | loaded relay p50 p99 "
                  "| µs CPU/msg web redis | delivered", flush=True)
            for r in range(args.rounds):
                for name, replicas, root in runs:
                    asyncio.run(add_nurse(cluster.url, data_dir))
                    web = Web(data_dir, cluster.url, extra_env={
                        REPLICAS_ENV: str(replicas), TIMEOUT_ENV: str(args.timeout_ms)})
                    if root is not None:
                        web.cwd = root
                    web.start()
                    try:
                        fig = asyncio.run(measure(
                            web.base, web.pid, redis_pids, args.pairs, args.singles, args.rate,
                            args.seconds, f"r{r}w{replicas}"))
                    finally:
                        web.stop()
                    print(report(name, fig), flush=True)
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
