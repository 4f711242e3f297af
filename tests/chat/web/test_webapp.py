"""The web app parts of the youth pages over real HTTP: the service worker at the root, the
manifest with installable icons, the CSP that lets both load, and the VAPID key the page gets."""

from __future__ import annotations

import asyncio
import json
import re
import struct
from pathlib import Path

import httpx

from chat.push.keys import load_push_keys, unb64url
from devservices.webproc import WebProcess
from tests.servers import write_test_config


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_the_service_worker_is_served_from_the_root_and_never_kept(web: WebProcess) -> None:
    async with httpx.AsyncClient(base_url=web.base) as http:
        r = await http.get("/sw.js")
        assert r.status_code == 200
        assert r.headers["content-type"].split(";")[0] == "text/javascript"
        assert r.headers["cache-control"] == "no-cache"
        assert "service-worker-allowed" not in r.headers  # its own scope, "/", is enough
        for event in ("push", "notificationclick", "message"):
            assert f'addEventListener("{event}"' in r.text, event
        # No fetch handler: nothing of a conversation is ever cached for offline use.
        assert 'addEventListener("fetch"' not in r.text


async def test_the_manifest_makes_an_installable_web_app(web: WebProcess) -> None:
    async with httpx.AsyncClient(base_url=web.base) as http:
        page = await http.get("/s/demo-skole")
        assert '<link rel="manifest" href="/manifest.webmanifest">' in page.text
        csp = page.headers["content-security-policy"]
        assert "manifest-src 'self'" in csp and "worker-src 'self'" in csp

        r = await http.get("/manifest.webmanifest")
        assert r.status_code == 200
        assert r.headers["content-type"].split(";")[0] == "application/manifest+json"
        manifest = json.loads(r.text)
        assert manifest["name"] == "Helseprat" and manifest["short_name"]
        assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
        sizes = set()
        for icon in manifest["icons"]:
            got = await http.get(icon["src"])
            assert got.status_code == 200, icon
            assert got.headers["content-type"] == "image/png" == icon["type"]
            w, h = png_size(got.content)
            assert icon["sizes"] == f"{w}x{h}", icon
            if icon["purpose"] == "any":
                sizes.add(w)
        assert {192, 512} <= sizes


async def test_the_pages_carry_the_servers_vapid_public_key(web: WebProcess) -> None:
    # The test set-up made the server's push keys: the youth page and the dashboard hand the
    # browser the public half (the uncompressed P-256 point) for pushManager.subscribe.
    keys = load_push_keys(web.data_dir / "secrets", required=True)
    assert keys is not None
    async with httpx.AsyncClient(base_url=web.base) as http:
        page = await http.get("/s/demo-skole")
    box = re.search(r'<div id="push-box"[^>]*>', page.text)
    assert box is not None and f'data-vapid-key="{keys.public_key}"' in box[0]
    assert len(keys.public_key) == 87 and unb64url(keys.public_key)[0] == 4


async def test_no_push_keys_no_push_opt_in(tmp_path: Path, redis_url: str) -> None:
    # A server without vapid_private.pem: the page carries an empty key, and push.js then
    # never shows the switch.
    data_dir = tmp_path / "web"
    write_test_config(data_dir)
    for name in ("vapid_private.pem", "push.key"):
        (data_dir / "secrets" / name).unlink()
    proc = WebProcess(data_dir, redis_url)
    await asyncio.to_thread(proc.start)
    try:
        async with httpx.AsyncClient(base_url=proc.base) as http:
            page = await http.get("/s/demo-skole")
    finally:
        await asyncio.to_thread(proc.stop)
    box = re.search(r'<div id="push-box"[^>]*>', page.text)
    assert box is not None
    assert ' hidden ' in box[0] and 'data-vapid-key=""' in box[0]
