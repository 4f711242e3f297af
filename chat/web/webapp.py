"""What makes the youth pages a web app that can receive Web Push: the service worker at
``/sw.js`` (served from the root so that its scope is the whole site) and the web app manifest
at ``/manifest.webmanifest`` (an iPhone delivers pushes only to a web app added to the home
screen, and adding one needs a manifest with icons).

The worker is bundled by static/build.mjs under a content-hashed name; it is served here under
its fixed name with ``no-cache``, so a browser asks for it again at every update check and picks
up a new build at once (a worker script is never kept for long anyway, but a year-long
``immutable`` on its URL would pin an old one).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.web.pages import STATIC_DIR, asset_manifest

WORKER_HEADERS = {"cache-control": "no-cache", "x-content-type-options": "nosniff"}

ICONS = [
    {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
    {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
    {"src": "/static/icons/icon-maskable-512.png", "sizes": "512x512", "type": "image/png",
     "purpose": "maskable"},
]

MANIFEST = {
    "id": "/",
    "name": "Helseprat",
    "short_name": "Helseprat",
    "lang": "nb",
    "start_url": "/",
    "scope": "/",
    "display": "standalone",
    "background_color": "#ffffff",
    "theme_color": "#0b5cad",
    "icons": ICONS,
}


async def service_worker(request: Request) -> Response:
    body = (STATIC_DIR / "dist" / asset_manifest()["sw.js"]).read_bytes()
    return Response(body, media_type="text/javascript", headers=WORKER_HEADERS)


async def web_manifest(request: Request) -> Response:
    return JSONResponse(MANIFEST, media_type="application/manifest+json",
                        headers={"cache-control": "public, max-age=3600"})
