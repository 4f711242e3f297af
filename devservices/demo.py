"""The demo set-up that `make run` writes under ./var when nothing is there yet.

``python -m devservices.demo`` (run by devservices.run before the web server starts, with the
same environment) writes the demo services file and secrets if missing, then the demo nurse
and lead accounts, the demo services' team keys and their information pages (the Markdown in
devservices/demo_pages/, ``<slug>.<lang>.md``, first line ``# <title>``) in the Redis at
REDIS_URL.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chat.domain.infopage import InfoPage

DEMO_PAGES = Path(__file__).resolve().parent / "demo_pages"

DEMO_NURSE = "demo.nurse"
DEMO_PASSWORD = "demo-helseprat-2026"  # demo only; printed by `make run`
DEMO_LEAD = "demo.lead"

DEMO_SERVICES = """\
# Municipalities and services served by this helseprat instance.
# Read once at start-up; edit and restart (or use `helseprat service add`).

[[municipality]]
id = "demo"
name = "Demo kommune"
escalation = "Ved akutt fare: ring 113. Barnevernvakten: 116 111. Meldeplikt til barnevernet: helsepersonelloven § 33."
crisis_numbers = [{ label = "Legevakt", number = "116 117" }]

[[service]]
id = "demo-skole"
municipality = "demo"
name = "Skolehelsetjenesten, Demo ungdomsskole"
kind = "school"
retention_days = 30
members = ["demo.nurse", "demo.lead"]
max_chats_per_nurse = 4

[service.hours]
daily = "00:00-24:00"
holidays = []

[[service]]
id = "demo-hfu"
municipality = "demo"
name = "Helsestasjon for ungdom, Demo"
kind = "clinic"
retention_days = 30
members = ["demo.nurse", "demo.lead"]

[service.hours]
mon = "14:00-18:00"
wed = "14:00-18:00"
thu = "14:00-18:00"
holidays = ["2026-12-24", "2026-12-25", "2026-12-26", "2026-12-31", "2027-01-01"]

# What happens at each type of appointment from the EPJ ("Mine avtaler"), in nb, nn and en.
[appointments.types.SAMTALE.name]
nb = "Samtale med helsesykepleier"
nn = "Samtale med helsesjukepleiar"
en = "Talk with the school nurse"

[appointments.types.SAMTALE.about]
nb = "Dere snakker om det du vil. Ta gjerne med spørsmål, eller bare kom."
nn = "De snakkar om det du vil. Ta gjerne med spørsmål, eller berre kom."
en = "You talk about whatever you want. Bring questions, or just come."

# The service's information page on this kind of appointment (docs/info-pages.md).
[appointments.types.SAMTALE]
info = "hva-skjer"
"""


def write_secret(path: Path) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    path.write_text(secrets.token_urlsafe(48) + "\n")
    path.chmod(0o600)


def ensure_demo_files(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    services = data_dir / "services.toml"
    if not services.exists():
        services.write_text(DEMO_SERVICES, encoding="utf-8")
    for name in ("token_key", "session_key"):
        write_secret(data_dir / "secrets" / name)
    from identity_bridge.web.config import write_person_key

    write_person_key(data_dir / "secrets" / "person_key")  # only read when [idporten] is set
    from chat.push.keys import write_push_keys

    write_push_keys(data_dir / "secrets")  # the VAPID key and the subscription-sealing key


async def ensure_demo_teams(
    redis: object, data_dir: Path, services: dict[str, tuple[str, ...]], password: str
) -> None:
    """Team keys for the demo services, and device keys for the demo accounts.

    Demo only: a real nurse's device keys are made and wrapped in her own browser at first
    login, and the team-root key file lives with the service admin, not next to the server.
    """
    from typing import cast

    import redis.asyncio as aioredis
    from redis.asyncio.cluster import RedisCluster

    from chat import crypto
    from chat.cli import team as teamadmin
    from chat.store.teamkeys import Device, TeamKeys

    assert isinstance(redis, aioredis.Redis | RedisCluster)
    store = TeamKeys(cast(aioredis.Redis, redis))
    for usernames in services.values():
        for username in usernames:
            if await store.device(username) is None:
                keys = crypto.device_keys()
                wrapped = crypto.wrap_device_keys(keys, password)
                await store.set_device(username, Device(
                    crypto.b64encode(wrapped), crypto.b64encode(keys.box.public_key),
                    crypto.b64encode(keys.sign.public_key)))
    key_dir = data_dir / "team-keys"
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for service, usernames in services.items():
        path = key_dir / f"{service}.json"
        admin = teamadmin.AdminKeys.load(path) if path.exists() else teamadmin.init(service)
        for username in usernames:
            if username not in admin.members:
                admin.members.append(username)
        admin.save(path)
        await teamadmin.publish(admin, store)


async def ensure_demo_accounts() -> None:
    from chat.actions.accounts import Accounts
    from chat.clock import SystemClock
    from chat.config import load_config
    from chat.store.client import connect

    config = load_config()
    assert config.redis_url, "REDIS_URL is set by devservices.run"
    redis = connect(config.redis_url)
    accounts = Accounts(config, redis, SystemClock())
    existing = {a["username"] for a in await accounts.list()}
    if DEMO_NURSE not in existing:
        await accounts.add(DEMO_NURSE, DEMO_PASSWORD, "nurse", "Demo Helsesykepleier")
    if DEMO_LEAD not in existing:
        await accounts.add(DEMO_LEAD, DEMO_PASSWORD, "lead", "Demo Leder")
    await ensure_demo_teams(redis, config.data_dir,
                            {s.id: s.members for s in config.services.values()}, DEMO_PASSWORD)
    await ensure_demo_pages(redis, list(config.services))
    await redis.aclose()


def demo_pages() -> list[InfoPage]:
    """The demo information pages, checked as a lead's are."""
    from chat.domain.infopage import SUGGESTED_SLUGS, PageText, check_page

    pages: list[InfoPage] = []
    for position, slug in enumerate(SUGGESTED_SLUGS):
        texts = {}
        for lang in ("nb", "nn", "en"):
            head, _, body = (DEMO_PAGES / f"{slug}.{lang}.md").read_text(encoding="utf-8") \
                .partition("\n")
            texts[lang] = PageText(head.removeprefix("# ").strip(), body)
        pages.append(check_page(slug, (position + 1) * 10, texts))
    return pages


async def ensure_demo_pages(redis: object, services: list[str]) -> None:
    """The demo pages in each service that has none of that slug yet (a lead's edit stays)."""
    from typing import cast

    import redis.asyncio as aioredis

    from chat.store.infopages import InfoPages

    store = InfoPages(cast(aioredis.Redis, redis))
    for service in services:
        have = await store.slugs(service)
        for page in demo_pages():
            if page.slug not in have:
                await store.put(service, page)


def main() -> int:
    import asyncio
    import os

    ensure_demo_files(Path(os.environ.get("HELSEPRAT_DATA_DIR", "var")).resolve())
    asyncio.run(ensure_demo_accounts())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
