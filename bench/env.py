"""The bench environment: a private redis-server (or a private Redis Cluster of six), web
processes, accounts, resource sampling.

Everything listens on 127.0.0.1 only. Processes started here are stopped here, by their pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from devservices.demo import write_secret
from devservices.redis_cluster import RedisCluster
from devservices.redis_proc import RedisProcess, free_port
from devservices.webproc import WebProcess, wait_http

ROOT = Path(__file__).resolve().parents[1]
# The web processes import `chat` from here: point it at another checkout to compare versions.
SERVER_ROOT = Path(os.environ.get("BENCH_SERVER_ROOT", str(ROOT)))
SERVICE = "bench-svc"
NURSE = "bench.nurse"
PASSWORD = "bench-password-2026"  # local bench account only

# All load comes from one client key (loopback), so the per-client limits are set far above
# what the generator can reach; one nurse account holds every conversation.
BENCH_SERVICES = f"""
[limits]
sends_per_second = 100000
send_burst = 100000
frames_per_second = 100000
frame_burst = 100000
starts_per_client_per_hour = 10000000
waiting_starts_per_client = 10000000
max_messages_per_conversation = 10000000
max_bytes_per_conversation = 100000000000

[[municipality]]
id = "bench"
name = "Bench kommune"

[[service]]
id = "{SERVICE}"
municipality = "bench"
name = "Bench service"
kind = "school"
retention_days = 1
members = ["{NURSE}"]
max_chats_per_nurse = 1000000

[service.hours]
daily = "00:00-24:00"
holidays = []
"""


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


@dataclass
class Web(WebProcess):
    """A bench web process: quiet logs, and `chat` imported from SERVER_ROOT."""

    def __post_init__(self) -> None:
        self.cwd = SERVER_ROOT
        self.extra_env.setdefault("HELSEPRAT_LOG_LEVEL", "WARNING")

    def kill9(self) -> None:
        self.kill()


@dataclass
class Yardstick:
    """An in-memory reference relay as a child process on 127.0.0.1 (``module --port N``)."""

    module: str
    args: tuple[str, ...] = ()
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", self.module, "--port", str(self.port), *self.args],
                                     cwd=ROOT)
        wait_http(self.base + "/readyz", proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Ceiling(Yardstick):
    """The raw-``websockets`` relay (bench/ceiling.py) on uvloop."""

    module: str = "bench.ceiling"
    args: tuple[str, ...] = ("--uvloop",)


@dataclass
class Floor(Yardstick):
    """The same relay as a Starlette app on Hypercorn, set up as the server (bench/floor.py)."""

    module: str = "bench.floor"


REDIS_KINDS = ("single", "cluster")


class BenchEnv:
    """A temporary data dir with the bench config, a private Redis and a nurse account.

    ``redis``: "single", one redis-server; "cluster", a loopback Redis Cluster of three
    primaries and three replicas (devservices/redis_cluster.py), as chat/store/client.py
    connects to with a ``redis+cluster://`` URL. Its nodes' CPU is summed as "redis"."""

    def __init__(self, redis: str = "single") -> None:
        if redis not in REDIS_KINDS:
            raise ValueError(f"redis is one of {', '.join(REDIS_KINDS)}")
        self._tmp = tempfile.TemporaryDirectory(prefix="helseprat-bench-")
        self.dir = Path(self._tmp.name)
        self.data_dir = self.dir / "data"
        self.data_dir.mkdir()
        (self.data_dir / "services.toml").write_text(BENCH_SERVICES, encoding="utf-8")
        for name in ("token_key", "session_key"):
            write_secret(self.data_dir / "secrets" / name)
        self.redis: RedisProcess | RedisCluster = (
            RedisCluster(self.dir / "cluster", maxmemory="1gb") if redis == "cluster"
            else RedisProcess(data_dir=self.dir / "redis"))
        self.webs: list[Web] = []

    def __enter__(self) -> BenchEnv:
        raise_nofile()
        self.redis.start()
        asyncio.run(self._add_nurse())
        return self

    def __exit__(self, *exc: object) -> None:
        for w in self.webs:
            w.stop()
        self.redis.stop()
        self._tmp.cleanup()

    async def _add_nurse(self) -> None:
        from chat.actions.accounts import Accounts, hash_password
        from chat.clock import SystemClock
        from chat.config import load_config
        from chat.store.client import connect, ready

        config = load_config({"HELSEPRAT_DATA_DIR": str(self.data_dir), "REDIS_URL": self.redis.url})
        client = connect(self.redis.url)
        await ready(client)
        await Accounts(config, client, SystemClock()).add(
            NURSE, "", "nurse", "Bench Nurse", password_hash=hash_password(PASSWORD))
        await client.aclose()

    def web(self, wrapper: list[str] | None = None) -> Web:
        w = Web(self.data_dir, self.redis.url, wrapper=wrapper or [])
        w.start()
        self.webs.append(w)
        return w

    def flush(self) -> None:
        """Empty Redis between scenarios, keeping the nurse account."""
        import redis
        from redis.cluster import RedisCluster as SyncCluster

        if isinstance(self.redis, RedisCluster):
            c = SyncCluster(host="127.0.0.1", port=self.redis.ports[0])
            c.flushall(target_nodes=SyncCluster.PRIMARIES)
            c.close()
        else:
            r = redis.Redis.from_url(self.redis.url)
            r.flushall()
            r.close()
        asyncio.run(self._add_nurse())

    @property
    def redis_pids(self) -> list[int]:
        """The redis-server process, or every node of the cluster (primaries and replicas)."""
        if isinstance(self.redis, RedisCluster):
            pids = [n.proc.pid for n in self.redis.nodes if n.proc is not None]
        else:
            pids = [self.redis.proc.pid] if self.redis.proc is not None else []
        assert pids, "Redis is not running"
        return pids

    def redis_rss(self) -> int:
        return sum(rss(p) for p in self.redis_pids)


def login(base: str) -> str:
    from chat.client.protocol import nurse_login

    return asyncio.run(nurse_login(base, NURSE, PASSWORD))


class Sampler:
    """Samples CPU % and RSS of named pids every ``interval`` seconds in a thread."""

    def __init__(self, pids: dict[str, list[int]], interval: float = 0.5) -> None:
        self.interval = interval
        self.procs: dict[str, list[psutil.Process]] = {}
        for name, ps in pids.items():
            self.procs[name] = [psutil.Process(p) for p in ps]
            for p in self.procs[name]:
                p.cpu_percent(None)
        self.samples: list[tuple[float, dict[str, tuple[float, int]]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        for _ in range(100_000):
            if self._stop.wait(self.interval):
                return
            now = time.monotonic()
            row: dict[str, tuple[float, int]] = {}
            for name, ps in self.procs.items():
                cpu, rss = 0.0, 0
                for p in ps:
                    with contextlib.suppress(psutil.Error):
                        cpu += p.cpu_percent(None)
                        rss += p.memory_info().rss
                row[name] = (cpu, rss)
            self.samples.append((now, row))

    def window(self, t0: float, t1: float) -> dict[str, tuple[float, int]]:
        """Mean CPU % and max RSS per name over samples taken in [t0, t1]."""
        rows = [r for t, r in self.samples if t0 <= t <= t1]
        out: dict[str, tuple[float, int]] = {}
        for name in self.procs:
            vals = [r[name] for r in rows if name in r]
            if vals:
                out[name] = (sum(v[0] for v in vals) / len(vals), max(v[1] for v in vals))
        return out


def rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)
