"""Information pages (docs/info-pages.md): read by anyone at /s/<service>/info[/<slug>], kept
by the service's leads at /lead/info.

| GET  /s/{service}/info          | the service's pages, in the page's language |
| GET  /s/{service}/info/{slug}   | one page (bokmål where it has no text in the language) |
| GET  /lead/info                 | leads: their services' pages |
| GET  /lead/info/edit            | leads: one page's form (?service=&slug=; no slug: a new one) |
| POST /lead/info                 | leads: preview, save or remove (CSRF as every lead form) |

The Markdown is rendered and sanitised on every read (chat/domain/infopage.py), so a stored
page is never trusted as HTML, and a tightened allow-list applies to old pages at once.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from chat.actions.accounts import Session, csrf_ok
from chat.actions.infopages import checked
from chat.config import Service
from chat.domain.infopage import (
    LANGS,
    MAX_MARKDOWN,
    MAX_TITLE,
    SLUG,
    SUGGESTED_SLUGS,
    PageText,
    render,
)
from chat.errors import BadInfoPage, ClientError, CsrfFailed
from chat.web.lead_pages import forbidden_page, lead_page, lead_service, staff_session
from chat.web.pages import crisis_numbers, page_lang, request_runtime
from chat.web.pages import render as render_page
from chat.web.runtime import Runtime

# A slug longer than this is no slug of ours (the pattern allows 48): cut before it is used.
_MAX_SLUG_FIELD = 64


def _not_found(request: Request, rt: Runtime) -> Response:
    return render_page(request, "not_found.html", status=404, crisis=crisis_numbers(rt))


# -- anyone ------------------------------------------------------------------------------------
async def index(request: Request) -> Response:
    rt = request_runtime(request)
    service = rt.config.service(request.path_params["service"])
    if service is None:
        return _not_found(request, rt)
    lang = page_lang(request)
    pages = await rt.actions.dashboard.info.pages.list(service.id)
    items = [(p.slug, *p.text(lang)) for p in pages]
    return render_page(request, "info_index.html", lang=lang, service=service, items=items,
                       crisis=crisis_numbers(rt, service.municipality, lang))


async def page(request: Request) -> Response:
    rt = request_runtime(request)
    service = rt.config.service(request.path_params["service"])
    slug = str(request.path_params["slug"])
    found = (await rt.actions.dashboard.info.pages.get(service.id, slug)
             if service and SLUG.fullmatch(slug) else None)
    if service is None or found is None:
        return _not_found(request, rt)
    lang = page_lang(request)
    shown, text = found.text(lang)
    return render_page(request, "info_page.html", lang=lang, service=service, slug=slug,
                       shown=shown, title=text.title, body=render(text.markdown),
                       crisis=crisis_numbers(rt, service.municipality, lang))


# -- leads -------------------------------------------------------------------------------------
async def lead_list(request: Request) -> Response:
    lead = await lead_page(request)
    if isinstance(lead, Response):
        return lead
    rt, session, services = lead
    lists = [(s, await rt.actions.dashboard.info.pages.list(s.id)) for s in services]
    return render_page(request, "lead_info.html", nurse=session.nurse, csrf=session.csrf,
                       lists=lists, suggested=SUGGESTED_SLUGS,
                       removed=request.query_params.get("removed", "")[:_MAX_SLUG_FIELD],
                       saved=request.query_params.get("saved", "")[:_MAX_SLUG_FIELD])


async def lead_edit(request: Request) -> Response:
    lead = await lead_page(request)
    if isinstance(lead, Response):
        return lead
    rt, session, services = lead
    service = lead_service(rt, session.nurse, request.query_params.get("service", services[0].id))
    if service is None:
        return forbidden_page(request)
    slug = request.query_params.get("slug", "")[:_MAX_SLUG_FIELD]
    existing = await rt.actions.dashboard.info.pages.get(service.id, slug) if slug else None
    texts = existing.texts if existing else {}
    position = existing.position if existing else 50
    return _edit_form(request, session, service, slug, position, texts, existing is not None)


def _edit_form(request: Request, session: Session, service: Service, slug: str,
               position: int, texts: dict[str, PageText], exists: bool, *,
               preview: bool = False, error: ClientError | None = None) -> Response:
    ctx: dict[str, Any] = {
        "nurse": session.nurse, "csrf": session.csrf, "service": service, "slug": slug,
        "position": position, "exists": exists, "langs": LANGS,
        "texts": {lang: texts.get(lang, PageText("", "")) for lang in LANGS},
        "previews": ({lang: render(t.markdown) for lang, t in texts.items()} if preview else {}),
        "error": error, "max_markdown": MAX_MARKDOWN, "max_title": MAX_TITLE}
    return render_page(request, "lead_info_edit.html",
                       status=error.http_status if error else 200, **ctx)


def _form_texts(form: FormData) -> dict[str, PageText]:
    # Cut well past the limits (so an oversized text is still refused, not silently shortened),
    # never to nothing: the body limit of the route bounds what arrives at all.
    return {lang: PageText(str(form.get(f"title_{lang}", ""))[:MAX_TITLE * 4],
                           str(form.get(f"md_{lang}", ""))[:MAX_MARKDOWN * 4])
            for lang in LANGS}


def _position(raw: str) -> int:
    return int(raw) if raw.isdigit() and len(raw) <= 3 else -1


async def lead_post(request: Request) -> Response:
    rt = request_runtime(request)
    session = await staff_session(request)
    if session is None:
        return RedirectResponse("/nurse/login", status_code=303)
    form = await request.form()
    if not csrf_ok(session.csrf, str(form.get("csrf", ""))):
        return Response("Forbidden", status_code=CsrfFailed.http_status)
    service = lead_service(rt, session.nurse, str(form.get("service", "")))
    if service is None:
        return forbidden_page(request)
    lang = page_lang(request)
    slug = str(form.get("slug", "")).strip()[:_MAX_SLUG_FIELD]
    action = str(form.get("action", ""))
    editor = rt.actions.dashboard.info
    if action == "remove":
        await editor.remove(service.id, session.nurse.username, slug)
        return RedirectResponse(f"/lead/info?lang={lang}&removed={slug}", status_code=303)
    texts = _form_texts(form)
    position = _position(str(form.get("position", "")).strip())
    exists = str(form.get("exists", "")) == "1"
    try:
        page_ = checked(slug, position, texts)
        if action == "save":
            await editor.save(service.id, session.nurse.username, page_, new=not exists)
            return RedirectResponse(f"/lead/info?lang={lang}&saved={slug}", status_code=303)
        if action != "preview":
            raise BadInfoPage("Unknown action.")
    except ClientError as err:
        return _edit_form(request, session, service, slug, position, texts, exists, error=err)
    return _edit_form(request, session, service, slug, position, page_.texts, exists,
                      preview=True)

