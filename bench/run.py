"""Benchmark scenarios for helseprat; prints one table.

    python -m bench.run --quick                 # every scenario, scaled down (< 5 minutes)
    python -m bench.run relay-ramp              # full versions by name
    python -m bench.run steady idle burst storm
    python -m bench.run relay-ramp --json out.json --workers 2 --no-deflate
    python -m bench.run relay-ramp --quick --targets floor,1,cluster
    python -m bench.run idle storm --redis cluster

Scenarios: relay-ramp (the in-memory ceiling relay on raw websockets, the in-memory floor relay
on Starlette/Hypercorn, one web process, two web processes on one Redis, one web process on a
loopback Redis Cluster), steady, idle, burst, storm (on one Redis, or with --redis cluster on
the loopback cluster). Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from bench.env import REDIS_KINDS, BenchEnv, Ceiling, Floor, Sampler, Yardstick, login, raise_nofile, rss
from bench.loadgen import Workers, now, percentile

MB = 1024 * 1024


@dataclass
class Row:
    scenario: str
    target: str
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class Opts:
    quick: bool
    workers: int
    compression: str | None
    step_seconds: float
    rows: list[Row] = field(default_factory=list)
    ceiling_rate: float | None = None
    floor_rate: float | None = None
    # server CPU µs per delivered message, by target and offered rate (relay-ramp)
    server_us: dict[str, dict[int, float]] = field(default_factory=dict)
    profile: str | None = None  # py-spy output path for the server under the relay ramp
    rates: list[int] | None = None
    targets: tuple[str, ...] = ("ceiling", "floor", "1", "2")
    pairs: int | None = None  # storm: youth/nurse pairs instead of the scenario's size
    redis: str = "single"  # steady, idle, burst, storm: one Redis or the loopback cluster


def on_cluster(o: Opts) -> str:
    """What a scenario's row name adds when it ran on the loopback cluster (--redis cluster)."""
    return " on a Redis Cluster" if o.redis == "cluster" else ""


def fmt_ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:.1f}"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- relay ramp ----------------------------------------------------------------------------------
def ramp(o: Opts, label: str, youth_base: str, nurse_base: str, cookie: str, pids: dict[str, list[int]],
         pairs: int, rates: list[int]) -> dict[str, Any]:
    with Workers(o.workers) as w:
        per = pairs // o.workers
        setup = w.call("pairs", {"youth_base": youth_base, "nurse_base": nurse_base, "cookie": cookie,
                                 "n": per, "per_nurse": 10, "compression": o.compression})
        log(f"{label}: {sum(s['pairs'] for s in setup)} pairs in {max(s['seconds'] for s in setup):.1f} s")
        steps: list[dict[str, Any]] = []
        best: dict[str, Any] | None = None
        fails = 0
        with Sampler({**pids, "gen": w.pids}) as sampler:
            for rate in rates:
                preseal(w, pairs, rate * o.step_seconds)
                t0 = now() + 0.3
                res = w.call("run", {"steps": [(rate / o.workers, o.step_seconds)], "t0": t0, "drain": 1.0})
                lat = [x for r in res for x in r["lat"][0]]
                delivered = sum(r["delivered"][0] for r in res) / o.step_seconds
                usage = sampler.window(t0, t0 + o.step_seconds)
                s = {"rate": rate, "delivered": delivered, "p50": percentile(lat, 50),
                     "p95": percentile(lat, 95), "p99": percentile(lat, 99),
                     "lost": sum(r["lost"] for r in res), "disconnects": sum(r["disconnects"] for r in res),
                     "usage": usage, "opened": sum(r["opened"] for r in res),
                     "crypto_errors": sum(sum(r["errors"].values()) + r["replays"] for r in res)}
                if "server" in usage and delivered:
                    # CPU time per relayed message: robust to other load on a shared machine.
                    s["server_us"] = usage["server"][0] / 100 / delivered * 1e6
                if "redis" in usage and delivered:  # every node's, on a cluster
                    s["redis_us"] = usage["redis"][0] / 100 / delivered * 1e6
                steps.append(s)
                ok = (s["p99"] is not None and s["p99"] < 0.1 and delivered >= 0.95 * rate)
                log(f"{label}: offered {rate}/s delivered {delivered:.0f}/s p50 {fmt_ms(s['p50'])} "
                    f"p99 {fmt_ms(s['p99'])} ms, lost {s['lost']}, server {s.get('server_us', 0):.0f} µs/msg"
                    + (f" (redis {s['redis_us']:.0f})" if "redis_us" in s else "") + ", cpu " +
                    ", ".join(f"{k} {v[0]:.0f}%" for k, v in usage.items()) +
                    f"; opened {s['opened']}, errors {s['crypto_errors']}")
                if ok:
                    best, fails = s, 0
                else:
                    fails += 1
                    if fails >= 2:
                        break
        losses = w.call("losses", {"wait": 2.0})
    return {"steps": steps, "best": best, "lost": sum(x["lost"] for x in losses),
            "acked": sum(x["acked"] for x in losses), "disconnects": sum(x["disconnects"] for x in losses)}


def preseal(w: Workers, pairs: int, messages: float) -> None:
    """Seal the bodies a step will send before it starts (a little more than its share)."""
    per_side = int(messages / max(1, pairs) / 2 * 1.1) + 2
    w.call("preseal", {"per_pair": per_side})


def usage_str(u: dict[str, tuple[float, int]]) -> str:
    parts = []
    for k in ("server", "redis", "gen"):
        if k in u:
            parts.append(f"{k} {u[k][0]:.0f}% {u[k][1] / MB:.0f}MB")
    return ", ".join(parts)


def relay_ramp(o: Opts) -> None:
    pairs = 100 if o.quick else 200
    rates = [500, 1000, 2000, 3000, 4000, 5000, 6000] if o.quick else \
        [250, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 5000, 6000, 7000, 8000]
    rates = o.rates or rates
    yardsticks: list[tuple[str, Yardstick, list[int], str]] = [
        ("ceiling", Ceiling(), rates + ([] if o.rates else [10000, 12000] if not o.quick else [8000]),
         "relay-ramp: ceiling (in-memory websockets relay)"),
        ("floor", Floor(), rates, "relay-ramp: floor (in-memory Starlette relay on Hypercorn)")]
    for key, stick, its_rates, name in yardsticks:
        if key not in o.targets:
            continue
        stick.start()
        try:
            r = ramp(o, key, stick.base, stick.base, "", {"server": [stick.pid]}, pairs, its_rates)
        finally:
            stick.stop()
        if r["best"]:
            setattr(o, f"{key}_rate", r["best"]["delivered"])
        add_ramp_row(o, key, name, r)
    if "1" in o.targets or "2" in o.targets:
        relay_ramp_web(o, pairs, rates)
    if "cluster" in o.targets:
        # One web process against the loopback cluster (three primaries, three replicas): the
        # same generator and steps; "redis" is all six nodes' CPU.
        with BenchEnv("cluster") as env:
            web = env.web()
            cookie = login(web.base)
            pids = {"server": [web.pid], "redis": env.redis_pids}
            r = ramp(o, "cluster", web.base, web.base, cookie, pids, pairs, rates)
            add_ramp_row(o, "cluster", "relay-ramp: 1 web process on a Redis Cluster (3+3 nodes)", r)


def relay_ramp_web(o: Opts, pairs: int, rates: list[int]) -> None:
    with BenchEnv() as env:
        # An SVG flame graph, or collapsed stacks (one line per stack) for a path ending in .txt.
        fmt = ["--format", "raw"] if o.profile and o.profile.endswith(".txt") else []
        wrapper = [_py_spy(), "record", "-o", o.profile, "-r", "200", "--nonblocking", *fmt, "--"] \
            if o.profile else None
        if "1" in o.targets:
            web = env.web(wrapper)
            cookie = login(web.base)
            pids = {"server": [web.pid], "redis": env.redis_pids}
            r = ramp(o, "1 web", web.base, web.base, cookie, pids, pairs, rates)
            add_ramp_row(o, "1", "relay-ramp: 1 web process", r)
            web.stop()
            env.webs.remove(web)
            env.flush()
        if "2" not in o.targets:
            return
        a, b = env.web(), env.web()
        cookie = login(b.base)
        pids = {"server": [a.pid, b.pid], "redis": env.redis_pids}
        r = ramp(o, "2 web", a.base, b.base, cookie, pids, pairs, rates)
        add_ramp_row(o, "2", "relay-ramp: 2 web processes (youth on A, nurse on B)", r)


def add_ramp_row(o: Opts, key: str, name: str, r: dict[str, Any]) -> None:
    b = r["best"]
    yardstick = key in ("ceiling", "floor")
    f: dict[str, Any] = {}
    if b is None:
        f["max rate p99<100ms"] = "none"
    else:
        f["max rate p99<100ms"] = f"{b['delivered']:.0f} msg/s"
        f["p50/p95/p99 ms"] = f"{fmt_ms(b['p50'])}/{fmt_ms(b['p95'])}/{fmt_ms(b['p99'])}"
        for ref in ("floor", "ceiling"):
            ref_rate = getattr(o, f"{ref}_rate")
            if ref_rate and not yardstick:
                f[f"vs {ref}"] = f"{b['delivered'] / ref_rate:.2f}"
        f["usage"] = usage_str(b["usage"])
        if "server_us" in b:
            f["server CPU/msg"] = f"{b['server_us']:.0f} µs"
    us = [s["server_us"] for s in r["steps"] if "server_us" in s]
    if us:
        f["server CPU/msg (min over steps)"] = f"{min(us):.0f} µs ≈ {1e6 / min(us):.0f} msg/s per core"
    by_rate = {s["rate"]: s["server_us"] for s in r["steps"] if "server_us" in s}
    o.server_us[key] = by_rate
    f["server µs/msg by offered rate"] = " ".join(f"{k}:{v:.0f}" for k, v in by_rate.items())
    refs = ("floor", "ceiling", "1") if key == "cluster" else ("floor", "ceiling")
    for ref in refs:
        ref_us = o.server_us.get(ref, {})
        same = [k for k in by_rate if k in ref_us]
        if same and not yardstick:
            # CPU per message against the yardstick's at the same offered rate, in the same run.
            ref_name = "1 web (one Redis)" if ref == "1" else ref
            f[f"server CPU/msg ÷ {ref_name}"] = " ".join(f"{k}:{by_rate[k] / ref_us[k]:.2f}" for k in same)
    redis_us = {s["rate"]: s["redis_us"] for s in r["steps"] if "redis_us" in s}
    if redis_us:
        f["redis µs/msg by offered rate"] = " ".join(f"{k}:{v:.0f}" for k, v in redis_us.items())
    f["acked/lost"] = f"{r['acked']}/{r['lost']}"
    f["disconnects"] = r["disconnects"]
    f["steps"] = " ".join(f"{s['rate']}:{fmt_ms(s['p99'])}" for s in r["steps"])
    o.rows.append(Row(name, "≥5000 msg/s at p99<100 ms (1 web); server CPU/msg ≤ 1.5× floor", f))


# -- steady ---------------------------------------------------------------------------------------
def steady(o: Opts) -> None:
    pairs, rate, secs = (500, 500, 10.0) if o.quick else (5000, 2000, 60.0)
    with BenchEnv(o.redis) as env:
        web = env.web()
        cookie = login(web.base)
        with Workers(o.workers) as w:
            setup = w.call("pairs", {"youth_base": web.base, "nurse_base": web.base, "cookie": cookie,
                                     "n": pairs // o.workers, "per_nurse": 25, "compression": o.compression})
            n = sum(s["pairs"] for s in setup)
            log(f"steady: {n} pairs ({sum(s['clients'] for s in setup)} clients) in "
                f"{max(s['seconds'] for s in setup):.1f} s")
            preseal(w, n, rate * secs)
            with Sampler({"server": [web.pid], "redis": env.redis_pids, "gen": w.pids}) as sampler:
                t0 = now() + 0.5
                res = w.call("run", {"steps": [(rate / o.workers, secs)], "t0": t0, "drain": 3.0})
                usage = sampler.window(t0, t0 + secs)
            lat = [x for r in res for x in r["lat"][0]]
            delivered = sum(r["delivered"][0] for r in res) / secs
            f = {"pairs": n, "offered": f"{rate} msg/s", "delivered": f"{delivered:.0f} msg/s",
                 "p50/p95/p99 ms": f"{fmt_ms(percentile(lat, 50))}/{fmt_ms(percentile(lat, 95))}/"
                                   f"{fmt_ms(percentile(lat, 99))}",
                 "acked/lost": f"{sum(r['acked'] for r in res)}/{sum(r['lost'] for r in res)}",
                 "disconnects": sum(r["disconnects"] for r in res), "usage": usage_str(usage)}
            if o.ceiling_rate:
                f["vs ceiling"] = f"{delivered / o.ceiling_rate:.2f}"
            log(f"steady: {f}")
            o.rows.append(Row(f"steady: {rate} msg/s, {n} pairs, {secs:.0f} s{on_cluster(o)}", "p50/p99 reported", f))


# -- idle capacity --------------------------------------------------------------------------------
def idle(o: Opts) -> None:
    levels = [1000] if o.quick else [1000, 5000, 10000]
    with BenchEnv(o.redis) as env:
        web = env.web()
        cookie = login(web.base)
        with Workers(o.workers) as w, Workers(1) as dash:
            dash.call("dashboard", {"base": web.base, "cookie": cookie})
            time.sleep(1.0)
            base_rss = rss(web.pid)
            total = 0
            queued_all: list[tuple[str, float, float | None]] = []
            for level in levels:
                add = level - total
                spread = max(2.0, add / 500)  # arrive at up to 500 youths/s
                t0 = now() + 0.3
                res = w.call("youths", {"base": web.base, "n": add // o.workers, "spread": spread,
                                        "t0": t0, "compression": o.compression,
                                        "timeout": 60 + spread}, timeout=900)
                total = level
                queued = [q for r in res for q in r["queued"]]
                queued_all += queued
                time.sleep(3.0)  # let the queue settle before reading RSS
                server_rss = rss(web.pid)
                seen = dash.call("seen", {})[0]["seen"]
                dl = [seen[c] - t for c, t, _ in queued if c in seen]
                pos = [tq - t for _, t, tq in queued if tq is not None]
                f = {"connected": sum(1 for q in queued_all if q[2] is not None),
                     "server RSS": f"{server_rss / MB:.0f} MB (base {base_rss / MB:.0f} MB)",
                     "per connection": f"{(server_rss - base_rss) / level / 1024:.1f} KB",
                     "redis RSS": f"{env.redis_rss() / MB:.0f} MB",
                     "dashboard p50/p99/max s": f"{_s(percentile(dl, 50))}/{_s(percentile(dl, 99))}/"
                                                f"{_s(max(dl, default=None))} ({len(dl)}/{len(queued)} seen)",
                     "youth sees position p50/p99 s": f"{_s(percentile(pos, 50))}/{_s(percentile(pos, 99))}",
                     "disconnects": sum(r["disconnects"] for r in res)}
                log(f"idle {level}: {f}")
                o.rows.append(Row(f"idle: {level} waiting youths{on_cluster(o)}",
                                  "≤30 KB/conn, dashboard <1 s (10k)", f))


def _s(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


# -- arrival burst ------------------------------------------------------------------------------
def burst(o: Opts) -> None:
    n, spread = 1000, 10.0
    with BenchEnv(o.redis) as env:
        web = env.web()
        cookie = login(web.base)
        with Workers(o.workers) as w, Workers(1) as dash:
            dash.call("dashboard", {"base": web.base, "cookie": cookie})
            with Sampler({"server": [web.pid], "redis": env.redis_pids}) as sampler:
                t0 = now() + 0.3
                res = w.call("youths", {"base": web.base, "n": n // o.workers, "spread": spread, "t0": t0,
                                        "compression": o.compression, "timeout": 60})
                usage = sampler.window(t0, t0 + spread)
            queued = [q for r in res for q in r["queued"]]
            pos = [tq - t for _, t, tq in queued if tq is not None]
            seen = dash.call("seen", {})[0]["seen"]
            dl = [seen[c] - t for c, t, _ in queued if c in seen]
            f = {"youths": len(queued), "saw position": len(pos),
                 "time to position p50/p95/p99/max s": f"{_s(percentile(pos, 50))}/{_s(percentile(pos, 95))}/"
                                                       f"{_s(percentile(pos, 99))}/{_s(max(pos, default=None))}",
                 "dashboard p50/p99 s": f"{_s(percentile(dl, 50))}/{_s(percentile(dl, 99))}",
                 "usage": usage_str(usage), "disconnects": sum(r["disconnects"] for r in res)}
            log(f"burst: {f}")
            o.rows.append(Row(f"burst: {n} youths start within {spread:.0f} s{on_cluster(o)}",
                              "time to queue position", f))


# -- reconnect storm ---------------------------------------------------------------------------
def storm(o: Opts) -> None:
    # 10,000 connected clients: 9,600 youths in conversation with 400 nurse connections (24 each).
    pairs, per_nurse, rate = (960, 24, 200) if o.quick else (9600, 24, 500)
    pairs = o.pairs or pairs
    with BenchEnv(o.redis) as env:
        web = env.web()
        cookie = login(web.base)
        with Workers(o.workers) as w:
            setup = w.call("pairs", {"youth_base": web.base, "nurse_base": web.base, "cookie": cookie,
                                     "n": pairs // o.workers, "per_nurse": per_nurse,
                                     "compression": o.compression}, timeout=1200)
            clients = sum(s["clients"] for s in setup)
            log(f"storm: {clients} clients connected in {max(s['seconds'] for s in setup):.1f} s")
            base_rss = rss(web.pid)
            # Traffic before, through and after the kill.
            preseal(w, pairs, rate * 20.0)
            t0 = now() + 0.3
            for c in w.conns:
                c.send(("run", {"steps": [(rate / o.workers, 20.0)], "t0": t0, "drain": 5.0}))
            time.sleep(4.0)
            overflows = listen_overflows()
            t_kill = now()
            web.kill9()
            log("storm: web process killed (SIGKILL)")
            web.proc = None
            if o.profile:  # the restarted server runs under py-spy (the resume wave)
                fmt = ["--format", "raw"] if o.profile.endswith(".txt") else []
                web.wrapper = [_py_spy(), "record", "-o", o.profile, "-r", "100", "--nonblocking",
                               *fmt, "--"]
            web.start()  # same port
            t_up = now()
            log(f"storm: restarted after {t_up - t_kill:.2f} s")
            with Sampler({"server": [web.pid], "redis": env.redis_pids, "gen": w.pids}) as sampler:
                runs = [c.recv()[1] for c in w.conns]
                res = w.call("resumed", {"since": t_kill, "timeout": 120.0}, timeout=200)
                times = [t for r in res for t in r["times"]]
                usage = sampler.window(t_up, t_kill + max(times, default=0.0))
            overflows = listen_overflows() - overflows
            losses = w.call("losses", {"wait": 5.0})
            resuming = max(0.0, max(times, default=0.0) - (t_up - t_kill))
            server_cpu = usage.get("server", (0.0, 0))[0] / 100 * resuming
            youth = [t for r in res for t in r["youth"]]
            nurse = [t for r in res for t in r["nurse"]]
            f = {"clients": clients, "server RSS before kill": f"{base_rss / MB:.0f} MB",
                 "resumed": f"{sum(r['resumed'] for r in res)}/{sum(r['clients'] for r in res)}",
                 "all resumed after kill": f"{_s(max(times, default=None))} s",
                 "resume p50/p99 s": f"{_s(percentile(times, 50))}/{_s(percentile(times, 99))}",
                 "youth p50/p99/max s": f"{_s(percentile(youth, 50))}/{_s(percentile(youth, 99))}/"
                                        f"{_s(max(youth, default=None))}",
                 "nurse p50/p99/max s": f"{_s(percentile(nurse, 50))}/{_s(percentile(nurse, 99))}/"
                                        f"{_s(max(nurse, default=None))}",
                 **{f"{k} p50/max s": f"{_s(percentile(v, 50))}/{_s(max(v, default=None))}"
                    for k in res[0]["phases"]
                    for v in [[t for r in res for t in r["phases"][k]]]},
                 "resumed by 10/20/30 s": "/".join(str(sum(t <= x for t in times)) for x in (10, 20, 30)),
                 "server up after kill": f"{t_up - t_kill:.2f} s",
                 "listen queue overflows (machine-wide)": overflows,
                 "usage while resuming": usage_str(usage),
                 # CPU seconds the restarted server spent until the last client was back (with
                 # the traffic still flowing): robust to other load on a shared machine.
                 "server CPU while resuming": f"{server_cpu:.1f} s",
                 "acked": sum(x["acked"] for x in losses),
                 "acked lost": sum(x["lost"] for x in losses),
                 "unacked at end": sum(x["unacked"] for x in losses),
                 "disconnects": sum(x["disconnects"] for x in losses),
                 "errors": _merge([x["errors"] for x in losses]),
                 "failed connect attempts": _merge([x["connect_failures"] for x in losses]),
                 "sent during run": sum(sum(r["sent"]) for r in runs)}
            log(f"storm: {f}")
            o.rows.append(Row(f"storm: kill -9 under {clients} clients{on_cluster(o)}", "all resumed <30 s, 0 lost", f))


def listen_overflows() -> int:
    """TcpExt ListenOverflows (connections dropped because an accept queue was full), for the
    whole machine (Linux); -1 elsewhere."""
    try:
        with open("/proc/net/netstat", encoding="ascii") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return -1
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            row = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(row.get("ListenOverflows", -1))
    return -1


def _py_spy() -> str:
    """py-spy next to this interpreter (the venv's), else the one on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "py-spy")
    return here if os.path.exists(here) else "py-spy"


def _merge(ds: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in ds:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


SCENARIOS = {"relay-ramp": relay_ramp, "steady": steady, "idle": idle, "burst": burst, "storm": storm}


def machine() -> str:
    model = "?"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = next(line for line in open("/proc/meminfo", encoding="utf-8") if line.startswith("MemTotal"))
        mem_gb = int(mem.split()[1]) / 1024 / 1024
    except (OSError, StopIteration):
        mem_gb = 0
    return f"{os.cpu_count()} CPUs ({model}), {mem_gb:.1f} GiB, Python {platform.python_version()}"


def print_table(o: Opts) -> None:
    print(f"\nhelseprat benchmark — {time.strftime('%Y-%m-%d %H:%M')} — {machine()}")
    print(f"generator: {o.workers} processes, compression={o.compression or 'none'}, quick={o.quick}, "
          f"redis={o.redis}\n")
    print("| scenario | target | result |")
    print("|---|---|---|")
    for r in o.rows:
        res = "; ".join(f"{k}: {v}" for k, v in r.figures.items())
        print(f"| {r.scenario} | {r.target} | {res} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)} (default: all)")
    ap.add_argument("--quick", action="store_true", help="scaled-down versions (< 5 minutes total)")
    ap.add_argument("--workers", type=int, default=2, help="generator processes")
    ap.add_argument("--no-deflate", action="store_true",
                    help="do not offer permessage-deflate (browsers do; default offers it)")
    ap.add_argument("--step-seconds", type=float, default=None)
    ap.add_argument("--profile", help="relay-ramp: run the 1-process server under py-spy, write SVG here "
                    "(storm: the restarted server); a path ending in .txt gets collapsed stacks")
    ap.add_argument("--json", help="also write the rows as JSON here")
    ap.add_argument("--rates", help="relay-ramp: comma-separated offered rates (msg/s)")
    ap.add_argument("--targets", default="ceiling,floor,1,2",
                    help="relay-ramp: any of ceiling,floor,1,2,cluster (cluster: one web process on a "
                    "loopback Redis Cluster of three primaries and three replicas)")
    ap.add_argument("--redis", choices=REDIS_KINDS, default="single",
                    help="steady, idle, burst, storm: one redis-server, or the loopback Redis Cluster")
    ap.add_argument("--pairs", type=int, help="storm: pairs (9,600 full, 960 quick)")
    a = ap.parse_args(argv)
    raise_nofile()
    o = Opts(quick=a.quick, workers=a.workers, compression=None if a.no_deflate else "deflate",
             step_seconds=a.step_seconds or (3.0 if a.quick else 10.0), profile=a.profile,
             rates=[int(x) for x in a.rates.split(",")] if a.rates else None,
             targets=tuple(a.targets.split(",")), pairs=a.pairs, redis=a.redis)
    names = a.scenarios or list(SCENARIOS)
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    t0 = time.monotonic()
    try:
        for name in names:
            log(f"== {name}")
            try:
                SCENARIOS[name](o)
            except Exception as exc:  # one failing scenario still prints the others
                log(f"{name} failed: {type(exc).__name__}: {exc}")
                o.rows.append(Row(name, "-", {"failed": f"{type(exc).__name__}: {exc}"}))
    finally:
        print_table(o)
        log(f"total {time.monotonic() - t0:.0f} s")
        if a.json:
            with open(a.json, "w", encoding="utf-8") as fh:
                json.dump([r.__dict__ for r in o.rows], fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
