"""A local Redis Cluster: three primaries and three replicas of ``redis-server`` on loopback.

Each node is a private redis-server like devservices/redis_proc.py's (AOF everysec, a
``maxmemory`` ceiling with ``noeviction``), started with ``--cluster-enabled yes`` and its own
folder and cluster config file; ``redis-cli --cluster create`` joins them, and ``start`` returns
once every node says ``cluster_state:ok`` and knows all six nodes.

Used by ``make cluster`` (data under ./var/cluster) and by the ``redis_cluster`` test fixture.
``url`` is the ``redis+cluster://host:port,...`` form chat/config.py reads from REDIS_URL.

    python -m devservices.redis_cluster var/cluster
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from devservices.redis_proc import stop_process

NODES = 6  # 3 primaries, 1 replica each
BUS_OFFSET = 10000  # a node's cluster bus listens on its port + 10000


def free_cluster_port(taken: set[int]) -> int:
    """A loopback port free now whose cluster bus port (+10000) is free and valid too."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if port + BUS_OFFSET > 65535 or port in taken or port + BUS_OFFSET in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port + BUS_OFFSET))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


@dataclass
class ClusterNode:
    data_dir: Path
    port: int
    maxmemory: str
    node_timeout_ms: int = 5000
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def args(self, binary: str) -> list[str]:
        return [
            binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--cluster-enabled", "yes",
            "--cluster-config-file", str(self.data_dir / "nodes.conf"),
            "--cluster-node-timeout", str(self.node_timeout_ms),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--protected-mode", "yes",
            "--logfile", str(self.data_dir / "redis.log"),
            "--client-output-buffer-limit", "pubsub 256mb 128mb 60",
            "--maxclients", "20000",
            "--maxmemory", self.maxmemory,
            "--maxmemory-policy", "noeviction",
        ]


@dataclass
class RedisCluster:
    """Six cluster-enabled redis-server processes under ``data_dir`` (one folder each)."""

    data_dir: Path
    maxmemory: str = "256mb"
    # How long a node may not answer before the others count it as failed and its replica
    # takes over (a fail-over test wants it short, so the promotion comes quickly).
    node_timeout_ms: int = 5000
    nodes: list[ClusterNode] = field(default_factory=list)

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    @property
    def ports(self) -> list[int]:
        return [n.port for n in self.nodes]

    def start(self, timeout: float = 30.0) -> None:
        server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
        if server is None or cli is None:
            raise RuntimeError("redis-server and redis-cli are needed (apt-get install redis-server)")
        self.data_dir = self.data_dir.resolve()  # redis-server changes into --dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.nodes = []
        taken: set[int] = set()
        for i in range(NODES):
            d = self.data_dir / f"node{i}"
            if d.exists():  # a cluster's node ids and slots do not survive new ports
                shutil.rmtree(d)
            d.mkdir()
            port = free_cluster_port(taken)
            taken |= {port, port + BUS_OFFSET}
            self.nodes.append(ClusterNode(d, port, self.maxmemory, self.node_timeout_ms))
        try:
            for n in self.nodes:
                n.proc = subprocess.Popen(n.args(server), stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + timeout
            for n in self.nodes:
                self._wait(cli, n, deadline, lambda out: out.strip() == "PONG", "PING")
            subprocess.run(
                [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
                 "--cluster-replicas", "1", "--cluster-yes"],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                timeout=max(1.0, deadline - time.monotonic()))
            for n in self.nodes:
                self._wait(cli, n, deadline, _cluster_ok, "CLUSTER", "INFO")
                self._wait(cli, n, deadline, _roles_ok, "CLUSTER", "NODES")
            for n in self.nodes:  # replicas in sync: a WAIT for one replica can be met
                self._wait(cli, n, deadline, _replication_ok, "INFO", "replication")
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _wait(cli: str, node: ClusterNode, deadline: float, ready: object, *cmd: str) -> None:
        assert callable(ready)
        while time.monotonic() < deadline:
            if node.proc is not None and node.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited early; see {node.data_dir / 'redis.log'}")
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                out = subprocess.run([cli, "-p", str(node.port), *cmd], capture_output=True,
                                     text=True, timeout=2).stdout
                if ready(out):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"cluster node on port {node.port} not ready in time ({' '.join(cmd)})")

    def shard_of(self, key: str, via: int | None = None) -> tuple[int, int | None]:
        """The ports of the primary that holds ``key``'s slot and of its replica (None: none
        that is up), as the node on ``via`` (default: the first one running) sees them."""
        cli = shutil.which("redis-cli") or "redis-cli"
        port = via if via is not None else next(n.port for n in self.nodes if n.proc is not None)

        def ask(*cmd: str) -> str:
            return subprocess.run([cli, "-p", str(port), *cmd], capture_output=True, text=True,
                                  timeout=5, check=True).stdout

        slot = int(ask("CLUSTER", "KEYSLOT", key))
        lines = [line.split() for line in ask("CLUSTER", "NODES").splitlines() if line.strip()]
        ports = {f[0]: int(f[1].split("@")[0].rsplit(":", 1)[1]) for f in lines}
        for f in lines:
            spans = [part.partition("-") for part in f[8:] if not part.startswith("[")]
            if "master" in f[2] and any(int(lo) <= slot <= int(hi or lo) for lo, _, hi in spans):
                replicas = [g[0] for g in lines if g[3] == f[0] and "fail" not in g[2]]
                return ports[f[0]], ports[replicas[0]] if replicas else None
        raise RuntimeError(f"no primary holds slot {slot}")

    def kill(self, port: int) -> None:
        """kill -9 the node on ``port`` (a fail-over test): no goodbye to the cluster."""
        for n in self.nodes:
            if n.port == port and n.proc is not None:
                stop_process(n.proc, hard=True)
                n.proc = None

    def stop(self, hard: bool = False) -> None:
        for n in self.nodes:
            if n.proc is not None:
                stop_process(n.proc, hard)
                n.proc = None


def _cluster_ok(info: str) -> bool:
    fields = dict(line.split(":", 1) for line in info.split() if ":" in line)
    return fields.get("cluster_state") == "ok" and fields.get("cluster_known_nodes") == str(NODES)


def _roles_ok(nodes: str) -> bool:
    """Three primaries holding slots and three replicas, as this node sees them."""
    lines = [line.split() for line in nodes.splitlines() if line.strip()]
    primaries = sum(1 for f in lines if "master" in f[2] and len(f) > 8 and "fail" not in f[2])
    replicas = sum(1 for f in lines if "slave" in f[2] and "fail" not in f[2])
    return primaries == NODES // 2 and replicas == NODES - NODES // 2


def _replication_ok(info: str) -> bool:
    """A replica whose link to its primary is up, or a primary with an online replica."""
    fields = dict(line.split(":", 1) for line in info.split() if ":" in line)
    if fields.get("role") == "slave":
        return fields.get("master_link_status") == "up"
    return fields.get("connected_slaves") == "1" and "state=online" in fields.get("slave0", "")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Run a local 3+3 Redis Cluster until interrupted.")
    p.add_argument("data_dir", type=Path)
    args = p.parse_args(argv)
    cluster = RedisCluster(args.data_dir)
    cluster.start()
    print(f"REDIS_URL={cluster.url}", flush=True)
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        while not stop:
            time.sleep(0.5)
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
