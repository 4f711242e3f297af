"""Reading GET /metrics the way Prometheus does, for the metrics tests (no tests here)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


async def scrape(base: str, headers: dict[str, str] | None = None,
                 local_address: str | None = None) -> httpx.Response:
    transport = httpx.AsyncHTTPTransport(local_address=local_address) if local_address else None
    async with httpx.AsyncClient(base_url=base, transport=transport) as http:
        return await http.get("/metrics", headers=headers or {})


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample in the text format: (name, labels) -> value."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


async def read(base: str) -> str:
    r = await scrape(base)
    assert r.status_code == 200, r.status_code
    assert r.headers["content-type"].startswith("text/plain; version=")
    return r.text
