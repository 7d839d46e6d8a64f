"""An invitation in a real Chromium: an admin invites, a new person accepts through the link."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, expect

from rapport.core.db import Database
from tests.fixtures.browser import watch
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.server import LiveServer

NEW_PASSWORD = "seven purple lanterns drifting home"


async def test_a_new_person_accepts_an_invitation(
    page: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    owner = await make_staff(database, await make_workspace(database, "harbour-shop"))
    problems = await watch(page)
    await page.goto(f"{live_server.url}/console/sign-in")
    await page.get_by_label("Email").fill(owner.email)
    await page.get_by_label("Password").fill(owner.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.goto(f"{live_server.url}/console/settings/team")
    await page.get_by_label("Email").fill("newcomer@example.com")
    await page.get_by_label("Role").select_option("supervisor")
    await page.get_by_role("button", name="Invite").click()
    secret = page.locator("[data-secret]")
    await expect(secret).to_have_text(re.compile(rf"^{live_server.url}/console/invitations/\S+$"))
    link = await secret.inner_text()
    await expect(page.get_by_role("cell", name="newcomer@example.com", exact=True)).to_be_visible()
    await page.context.clear_cookies()

    await page.goto(link)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Join Harbour-Shop")
    await page.screenshot(path=tmp_path / "invitation.png", full_page=True)
    await page.get_by_label("Your name").fill("New Comer")
    await page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Create my account").click()
    await expect(page.get_by_role("status")).to_contain_text("Now sign in to accept")
    await page.get_by_label("Email").fill("newcomer@example.com")
    await page.get_by_label("Password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(link)
    await page.get_by_role("button", name="Accept and join").click()
    await expect(page).to_have_url(f"{live_server.url}/console?notice=invitation-accepted")
    await expect(page.locator(".eyebrow")).to_have_text("Harbour-Shop")
    await expect(page.locator(".me-text small")).to_have_text("supervisor")
    assert await problems.all(page) == []
    await page.goto(link)  # spent: a clear page (the browser logs its 410 status)
    await expect(page.get_by_role("heading", level=1)).to_have_text("No longer valid")
