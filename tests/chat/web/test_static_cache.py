"""Caching of what the pages load: content-hashed bundles for a year, everything else briefly,
pages never; and every template's <script>/<link> goes through the build's manifest."""

from __future__ import annotations

import re

import httpx

from chat.web.pages import MANIFEST, asset_manifest
from devservices.webproc import WebProcess

DIST = MANIFEST.parent
IMMUTABLE = "public, max-age=31536000, immutable"
ASSET_REF = re.compile(r'<(?:script[^>]+src|link[^>]+href)="(/static/[^"]+)"')


async def test_hashed_assets_are_immutable_and_pages_are_not_cached(web: WebProcess) -> None:
    async with httpx.AsyncClient(base_url=web.base) as http:
        page = await http.get("/s/demo-skole")
        assert page.headers["cache-control"] == "no-store"
        refs = ASSET_REF.findall(page.text)
        assert any(re.search(r"/youth-[A-Z2-7]{8}\.js$", r) for r in refs), refs
        assert any(re.search(r"/app-[A-Z2-7]{8}\.css$", r) for r in refs), refs
        for path in refs:
            r = await http.get(path)
            assert r.status_code == 200, path
            assert r.headers["cache-control"] == IMMUTABLE, path
        # Every bundle, chunk (the lazily loaded crypto) and libsodium's wasm has a hashed name.
        built = [p for p in DIST.rglob("*") if p.is_file() and p.name != "manifest.json"
                 and not p.name.startswith(".")]  # the Makefile's build stamp
        assert any(p.suffix == ".wasm" for p in built), built
        for file in built:
            path = "/static/dist/" + file.relative_to(DIST).as_posix()
            assert (await http.get(path)).headers["cache-control"] == IMMUTABLE, path
        assert set(asset_manifest()) >= {"youth.js", "index.js", "identity.js", "nurse.js", "app.css"}

        # A file that may change in place keeps a short cache; a missing hashed name is not kept.
        manifest = await http.get("/static/dist/manifest.json")
        assert manifest.headers["cache-control"] == "public, max-age=300"
        missing = await http.get("/static/dist/youth-AAAAAAAA.js")
        assert missing.status_code == 404
        assert missing.headers["cache-control"] == "no-store"


async def test_every_page_script_and_stylesheet_is_a_hashed_asset(web: WebProcess) -> None:
    async with httpx.AsyncClient(base_url=web.base) as http:
        for path in ("/", "/s/demo-skole", "/nurse/login", "/personvern"):
            page = await http.get(path)
            assert page.status_code == 200, path
            for ref in ASSET_REF.findall(page.text):
                if ref.startswith("/static/dist/"):
                    assert re.search(r"-[A-Z2-7]{8}\.(js|css|wasm)$", ref), (path, ref)
            assert '<meta name="description" content="' in page.text, path
