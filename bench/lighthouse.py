"""The youth pages under Lighthouse's mobile preset: bytes transferred, paint, time to ready.

Starts its own Redis and web process (like the other benches), then runs npm's `lighthouse`
(a devDependency) on Debian's Chromium (CHROME_PATH, default /usr/bin/chromium) for the start
page and a service's chat page, twice each:

- the mobile preset as it is (simulated throttling): the performance score, FCP, LCP, TBT,
  Speed Index and the bytes transferred;
- the same preset with `--throttling-method=devtools`, where the 150 ms RTT, 1.6 Mbit/s and 4×
  CPU slowdown are applied for real, so the page's own "helseprat:ready" mark (set when the
  Start button becomes usable, static/js/startready.js) is a throttled time, not an observed
  one on an idle loopback.

    .venv/bin/python -m bench.lighthouse [--runs N]

Only 127.0.0.1 is contacted. Processes started here are stopped here, by their pid.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from devservices.redis_proc import RedisProcess

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devservices.webproc import WebProcess  # noqa: E402
from tests.servers import write_test_config  # noqa: E402

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
PAGES = {"start page": "/", "chat page": "/s/demo-skole"}
READY_MARK = "helseprat:ready"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking"


def lighthouse(url: str, out: Path, devtools: bool) -> dict[str, Any]:
    cmd = [str(LIGHTHOUSE), url, "--quiet", "--only-categories=performance", "--output=json",
           f"--output-path={out}", f"--chrome-flags={CHROME_FLAGS}"]
    if devtools:
        cmd.append("--throttling-method=devtools")
    env = dict(os.environ, CHROME_PATH=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    for attempt in (1, 2):  # Chromium now and then fails to start on a loaded machine
        done = subprocess.run(cmd, env=env, check=False, timeout=300, cwd=ROOT)
        if done.returncode == 0:
            break
        if attempt == 2:
            done.check_returncode()
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def figures(report: dict[str, Any]) -> dict[str, float]:
    audits = report["audits"]
    marks = audits.get("user-timings", {}).get("details", {}).get("items", [])
    ready = [m["startTime"] for m in marks if m.get("name") == READY_MARK]
    return {
        "score": report["categories"]["performance"]["score"] * 100,
        "bytes": audits["total-byte-weight"]["numericValue"],
        "fcp": audits["first-contentful-paint"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "si": audits["speed-index"]["numericValue"],
        "ready": ready[0] if ready else float("nan"),
    }


def median(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per page and mode (median)")
    args = parser.parse_args()
    results: dict[tuple[str, str], dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisProcess(Path(tmp) / "redis")
        redis.start()
        data = Path(tmp) / "web"
        write_test_config(data)
        web = WebProcess(data, redis.url, extra_env={"HELSEPRAT_LOG_LEVEL": "WARNING"})
        web.start()
        try:
            for name, path in PAGES.items():
                for mode, devtools in (("simulated", False), ("devtools", True)):
                    rows = [figures(lighthouse(web.base + path, Path(tmp) / f"lh-{i}.json", devtools))
                            for i in range(args.runs)]
                    results[(name, mode)] = median(rows)
        finally:
            web.stop()
            redis.stop()
    print(f"Lighthouse mobile preset, median of {args.runs} runs per row")
    print(f"{'page':12} {'throttling':10} {'score':>5} {'bytes':>9} {'FCP ms':>7} {'LCP ms':>7} "
          f"{'TBT ms':>6} {'SI ms':>6} {'ready ms':>8}")
    for (name, mode), f in results.items():
        ready = "—" if f["ready"] != f["ready"] else f"{f['ready']:.0f}"
        print(f"{name:12} {mode:10} {f['score']:>5.0f} {f['bytes']:>9,.0f} {f['fcp']:>7.0f} "
              f"{f['lcp']:>7.0f} {f['tbt']:>6.0f} {f['si']:>6.0f} {ready:>8}")


if __name__ == "__main__":
    main()
