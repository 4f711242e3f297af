"""The nurse's side in a desktop browser: sign in through the real form, land on the dashboard."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.conftest import axe_violations, describe
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


async def sign_in(page: Page, user: str = "demo.nurse", password: str = DEMO_PASSWORD) -> None:
    await page.goto("/nurse/login?lang=nb")
    await page.get_by_label("Brukernavn").fill(user)
    await page.get_by_label("Passord").fill(password)
    await page.get_by_role("button", name="Logg inn").click()


async def test_login_lands_on_dashboard_with_own_services(desktop: Page) -> None:
    await sign_in(desktop)
    await desktop.wait_for_url("**/nurse?lang=nb")
    assert await desktop.locator("#dash").count() == 1
    for service in ("demo-skole", "demo-hfu", "closed-clinic"):
        assert await desktop.locator(f"#q-{service}").count() == 1, service
    assert await desktop.locator("#q-other-service").count() == 0
    # The static parts of the dashboard (before any conversation exists) are accessible.
    violations = await axe_violations(desktop)
    assert not violations, describe(violations)


async def test_wrong_password_shows_an_accessible_error(desktop: Page) -> None:
    await sign_in(desktop, password="not-the-password")
    alert = desktop.get_by_role("alert")
    await alert.wait_for()
    assert "Feil brukernavn eller passord." in await alert.inner_text()
    violations = await axe_violations(desktop)
    assert not violations, describe(violations)


async def test_dashboard_needs_a_session(desktop: Page) -> None:
    await desktop.goto("/nurse")
    assert desktop.url.endswith("/nurse/login")
