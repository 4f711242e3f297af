"""Leads' changes to their service's information pages: checked, stored, audited.

Who may call these is the web layer's check (a lead of that service); here the page is checked
against its limits (chat/domain/infopage.py) before anything is stored, and every change is in
the service's audit log with the page's slug.
"""

from __future__ import annotations

from chat.domain.infopage import MAX_PAGES, InfoPage, PageProblem, PageText, check_page
from chat.errors import BadInfoPage, PageTooLarge
from chat.store.audit import Audit
from chat.store.infopages import InfoPages


def checked(slug: str, position: int, texts: dict[str, PageText]) -> InfoPage:
    """The page as it would be stored, or the client error that says why it cannot be."""
    try:
        return check_page(slug, position, texts)
    except PageProblem as p:
        if p.kind == "too_large":
            raise PageTooLarge() from None
        raise BadInfoPage(f"The page cannot be saved as it is: {p}.") from None


class InfoEditor:
    def __init__(self, pages: InfoPages, audit: Audit) -> None:
        self.pages = pages
        self.audit = audit

    async def save(self, service: str, lead: str, page: InfoPage, new: bool) -> None:
        """``new``: the lead began a new page; one already at that address is not replaced."""
        slugs = await self.pages.slugs(service)
        if new and page.slug in slugs:
            raise BadInfoPage("A page with that address exists already: edit that one.")
        if page.slug not in slugs and len(slugs) >= MAX_PAGES:
            raise BadInfoPage(f"A service has at most {MAX_PAGES} pages.")
        await self.pages.put(service, page)
        await self.audit.record(service, lead, "info_save", detail=page.slug)

    async def remove(self, service: str, lead: str, slug: str) -> bool:
        if not await self.pages.remove(service, slug):
            return False
        await self.audit.record(service, lead, "info_remove", detail=slug)
        return True
