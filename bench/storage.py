"""Redis memory per conversation: what sizing a national rollout needs from Redis.

Starts the bench environment (a private redis-server, one web process), sets up N live
conversations (a youth and a nurse each, end-to-end encrypted as in the relay ramp), relays
about M messages in each, and reads Redis's own accounting: ``used_memory`` before and after
(the whole server, so every key a conversation brings is counted: hash, log, dedup, queue and
active entries, the nurse's slot) and ``MEMORY USAGE`` of each kind of conversation key.

    .venv/bin/python -m bench.storage                      # 1,000 conversations × ~40 messages
    .venv/bin/python -m bench.storage --pairs 200 --messages 100
"""

from __future__ import annotations

import argparse
import collections
import statistics
import time

import redis

from bench.env import BenchEnv, login
from bench.loadgen import PLAINTEXT, Workers, now

KB = 1024


def key_kind(key: str) -> str:
    """``c:{cid}:l`` → ``c:{…}:l``: the kind of a conversation key without its id."""
    head, sep, rest = key.partition("{")
    if not sep:
        return key.split(":", 1)[0] + ":…"
    _, _, tail = rest.partition("}")
    return f"{head}{{…}}{tail}"


def sample_usage(r: redis.Redis, limit: int) -> dict[str, list[int]]:
    by_kind: dict[str, list[int]] = collections.defaultdict(list)
    seen_conversations: set[str] = set()
    for key in r.scan_iter(match="c:*", count=1000):
        name = key.decode()
        cid = name.partition("{")[2].partition("}")[0]
        if cid not in seen_conversations and len(seen_conversations) >= limit:
            continue
        seen_conversations.add(cid)
        usage = r.memory_usage(name, samples=0)
        if usage is not None:
            by_kind[key_kind(name)].append(int(usage))
    return by_kind


def dataset(r: redis.Redis) -> int:
    """Redis's own count of the bytes its keys and values take (no buffers, no overhead)."""
    return int(r.info("memory")["used_memory_dataset"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=40, help="messages per conversation, both sides")
    ap.add_argument("--rate", type=float, default=800.0, help="msg/s offered while filling")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args(argv)

    with BenchEnv() as env:
        web = env.web()
        cookie = login(web.base)
        r = redis.Redis.from_url(env.redis.url)
        with Workers(a.workers) as w:
            before = dataset(r)
            t0 = time.monotonic()
            setup = w.call("pairs", {"youth_base": web.base, "nurse_base": web.base, "cookie": cookie,
                                     "n": a.pairs // a.workers, "per_nurse": 25, "compression": None})
            pairs = sum(s["pairs"] for s in setup)
            started = dataset(r)
            total = pairs * a.messages
            w.call("preseal", {"per_pair": int(a.messages / 2 * 1.1) + 2})
            secs = total / a.rate
            res = w.call("run", {"steps": [(a.rate / a.workers, secs)], "t0": now() + 0.5, "drain": 3.0})
            delivered = sum(x["delivered"][0] for x in res)
            after = dataset(r)
            by_kind = sample_usage(r, limit=pairs)
        r.close()

    per_conv_started = (started - before) / max(1, pairs)
    per_conv_after = (after - before) / max(1, pairs)
    per_msg = (after - started) / max(1, delivered)
    print(f"{pairs} conversations set up, {delivered} messages relayed "
          f"(~{delivered / max(1, pairs):.0f} each; plaintext {len(PLAINTEXT)} bytes) in "
          f"{time.monotonic() - t0:.0f} s")
    print(f"used_memory_dataset: before {before / KB:.0f} KB, after set-up {started / KB:.0f} KB, "
          f"after the messages {after / KB:.0f} KB")
    print(f"per conversation: {per_conv_started / KB:.1f} KB when started and claimed, "
          f"{per_conv_after / KB:.1f} KB with its messages; per message {per_msg:.0f} bytes")
    print("MEMORY USAGE by kind of conversation key: kind, keys, median bytes, total per conversation")
    for kind, sizes in sorted(by_kind.items()):
        print(f"  {kind:<14} {len(sizes):>5} {statistics.median(sizes):>8.0f} "
              f"{sum(sizes) / max(1, pairs):>8.0f}")
    keys_total = sum(sum(v) for v in by_kind.values()) / max(1, pairs)
    print(f"  conversation keys together: {keys_total / KB:.1f} KB per conversation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
