"""The bench on a Redis Cluster: ``BenchEnv("cluster")`` runs a web process against a private
loopback cluster of six nodes (the nurse account survives a flush, and every node's CPU is
sampled as Redis), and the relay ramp's ``cluster`` target relays the generator's sealed
messages through it with nothing acked lost."""

from __future__ import annotations

import json
from pathlib import Path

from bench import run
from bench.env import BenchEnv, login


def test_a_web_process_on_the_bench_cluster() -> None:
    with BenchEnv("cluster") as env:
        assert len(env.redis_pids) == 6
        assert env.redis.url.startswith("redis+cluster://")
        web = env.web()
        assert login(web.base)
        env.flush()
        assert login(web.base)  # the account is put back after the flush


def test_the_relay_ramp_cluster_target(tmp_path: Path) -> None:
    out = tmp_path / "rows.json"
    run.main(["relay-ramp", "--quick", "--targets", "cluster", "--rates", "100",
              "--step-seconds", "1", "--workers", "1", "--json", str(out)])
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert [r["scenario"] for r in rows] == ["relay-ramp: 1 web process on a Redis Cluster (3+3 nodes)"]
    figures = rows[0]["figures"]
    acked, lost = (int(x) for x in figures["acked/lost"].split("/"))
    assert acked > 0 and lost == 0
    assert "100:" in figures["server µs/msg by offered rate"]
    assert "100:" in figures["redis µs/msg by offered rate"]
