"""A service's information pages in Redis: one hash per service, slug -> the page as JSON.

The pages are the service's public text, written by its leads and read by anyone: nothing in
them is about a person, so they are kept in clear (docs/info-pages.md). One key per service,
single-key commands only: the same on a Redis Cluster.
"""

from __future__ import annotations

import json
from typing import cast

import redis.asyncio as aioredis

from chat.domain.infopage import InfoPage, PageText
from chat.store import names as keys


def _encode(page: InfoPage) -> str:
    return json.dumps({"p": page.position,
                       "t": {lang: [t.title, t.markdown] for lang, t in page.texts.items()}},
                      ensure_ascii=False, separators=(",", ":"))


def _decode(slug: str, raw: str) -> InfoPage:
    data = json.loads(raw)
    return InfoPage(slug, int(data["p"]),
                    {lang: PageText(str(v[0]), str(v[1])) for lang, v in data["t"].items()})


class InfoPages:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def list(self, service: str) -> list[InfoPage]:
        """The service's pages, in the order the index shows them (position, then slug)."""
        raw = cast(dict[str, str], await self.redis.hgetall(keys.info_pages(service)))
        pages = [_decode(slug, v) for slug, v in raw.items()]
        return sorted(pages, key=lambda p: (p.position, p.slug))

    async def get(self, service: str, slug: str) -> InfoPage | None:
        raw = cast(str | None, await self.redis.hget(keys.info_pages(service), slug))
        return None if raw is None else _decode(slug, raw)

    async def slugs(self, service: str) -> set[str]:
        return set(cast(list[str], await self.redis.hkeys(keys.info_pages(service))))

    async def count(self, service: str) -> int:
        return int(await self.redis.hlen(keys.info_pages(service)))

    async def put(self, service: str, page: InfoPage) -> None:
        await self.redis.hset(keys.info_pages(service), page.slug, _encode(page))

    async def remove(self, service: str, slug: str) -> bool:
        return bool(await self.redis.hdel(keys.info_pages(service), slug))
