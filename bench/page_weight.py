"""Page weight of the youth chat page: HTML + CSS + JS, raw and compressed (gzip -9).

Starts its own Redis and web process (like `make run`), fetches /s/<service> and every
same-origin script, module chunk, stylesheet and preload (the lazily loaded crypto chunk and
libsodium's wasm) it names, and prints a table. bench/lighthouse.py measures the same page
in a throttled browser.

    .venv/bin/python -m bench.page_weight
"""

from __future__ import annotations

import gzip
import re
import sys
import tempfile
from pathlib import Path
from urllib.parse import urljoin

import httpx

from devservices.redis_proc import RedisProcess

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devservices.webproc import WebProcess  # noqa: E402
from tests.servers import write_test_config  # noqa: E402

IMPORTS = re.compile(r'(?:from|import)\s*"(\./[^"]+\.js)"')


def collect(base: str, path: str) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    with httpx.Client(base_url=base) as http:
        html = http.get(path).content
        out.append((path, html))
        text = html.decode()
        queue = re.findall(r'<script[^>]+src="([^"]+)"', text)
        queue += re.findall(r'<link[^>]+rel="(?:stylesheet|modulepreload|preload)"[^>]+href="([^"]+)"', text)
        seen: set[str] = set()
        while queue:
            url = queue.pop()
            if url in seen:
                continue
            seen.add(url)
            body = http.get(url).content
            out.append((url, body))
            if url.endswith(".js"):
                queue += [urljoin(url, m) for m in IMPORTS.findall(body.decode("utf-8", "replace"))]
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisProcess(Path(tmp) / "redis")
        redis.start()
        data = Path(tmp) / "web"
        write_test_config(data)
        web = WebProcess(data, redis.url)
        web.start()
        try:
            files = collect(web.base, "/s/demo-skole")
        finally:
            web.stop()
            redis.stop()
    total_raw = total_gz = 0
    print(f"{'resource':58} {'raw':>10} {'gzip -9':>10}")
    for url, body in files:
        gz = len(gzip.compress(body, 9))
        total_raw += len(body)
        total_gz += gz
        print(f"{url[:58]:58} {len(body):>10,} {gz:>10,}")
    print(f"{'total (youth chat page)':58} {total_raw:>10,} {total_gz:>10,}")


if __name__ == "__main__":
    main()
