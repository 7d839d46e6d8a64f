"""The console in a real Chromium: sign in, navigate, switch workspace, create an API key."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
from playwright.async_api import Dialog, Page, expect

from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.web.console.scopes import PRESETS
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.server import LiveServer


async def accept(dialog: Dialog) -> None:
    await dialog.accept()


async def test_sign_in_shows_the_home_page_with_navigation(
    page: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    account = await make_staff(database, await make_workspace(database, "north-shop"))
    problems = await watch(page)
    await sign_in_page(page, live_server.url, account.email, account.password, "/console")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Good to see you, Owner Person")
    navigation = page.get_by_role("navigation", name="Main")
    await expect(navigation.get_by_role("link", name="Home")).to_have_attribute(
        "aria-current", "page"
    )
    await expect(navigation.get_by_text("Journeyssoon")).to_have_attribute("aria-disabled", "true")
    await expect(page.locator(".js-hidden")).to_be_hidden()
    await page.screenshot(path=tmp_path / "home.png", full_page=True)
    assert await problems.all(page) == []


async def test_workspace_switcher_changes_the_current_workspace(
    page: Page, live_server: LiveServer, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database, "alpha-shop"))
    await make_staff(
        database, await make_workspace(database, "beta-shop"), Role.agent, email=account.email
    )
    problems = await watch(page)
    await sign_in_page(page, live_server.url, account.email, account.password, "/console")
    await expect(page.locator(".eyebrow")).to_have_text("Alpha-Shop")
    await page.get_by_label("Switch workspace").select_option("beta-shop")
    await expect(page.locator(".eyebrow")).to_have_text("Beta-Shop")
    await expect(page.locator(".me-text small")).to_have_text("agent")
    assert await problems.all(page) == []


async def test_api_key_is_created_shown_once_and_revoked(
    page: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    account = await make_staff(database, await make_workspace(database))
    problems = await watch(page)
    await sign_in_page(page, live_server.url, account.email, account.password, "/console")
    await page.get_by_role("link", name="Settings").click()
    await page.get_by_role("link", name="API keys").click()
    await page.get_by_label("Name", exact=True).fill("Order sync")
    await page.get_by_label("Read only").check()
    audit_read = page.get_by_role("checkbox", name=re.compile(r"^audit:read "))
    await expect(audit_read).to_be_checked()
    await audit_read.uncheck()
    await expect(page.get_by_role("radio", name=re.compile(r"^Custom "))).to_be_checked()
    await page.get_by_role("button", name="Create key").click()
    secret = page.locator("[data-secret]")
    await expect(secret).to_have_text(re.compile(r"^rk_[A-Za-z0-9_-]{40,}$"))
    await page.screenshot(path=tmp_path / "api-key.png", full_page=True)
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy = page.get_by_role("button", name="Copy the API key")
    await copy.click()
    await expect(copy).to_have_text("Copied")
    assert await page.evaluate("navigator.clipboard.readText()") == await secret.inner_text()
    page.once("dialog", accept)
    await page.get_by_role("button", name="Revoke").click()
    await expect(page.locator("tbody .pill-red")).to_have_text("Revoked")
    # The owner holds every scope: the read-only preset's, less the unticked audit:read.
    read_only = next(preset for preset in PRESETS if preset.key == "read-only")
    await expect(page.locator("tbody .scopes .pill")).to_have_count(len(read_only.scopes) - 1)
    assert await problems.all(page) == []


async def test_mfa_enrolment_shows_a_scannable_qr_code_and_recovery_codes(
    page: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    account = await make_staff(database, await make_workspace(database))
    problems = await watch(page)
    await sign_in_page(page, live_server.url, account.email, account.password, "/console")
    await page.get_by_role("link", name="Settings").click()
    await page.get_by_role("link", name="Set up two-step verification").click()
    await page.get_by_role("button", name="Set up now").click()
    qr_code = page.get_by_alt_text("QR code for your authenticator app")
    assert await qr_code.evaluate("image => image.naturalWidth") > 0
    await page.screenshot(path=tmp_path / "mfa-setup.png", full_page=True)
    await page.get_by_text("Can't scan it?").click()
    uri = await page.locator("[data-otpauth]").inner_text()
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    await page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Turn on").click()
    await expect(page.locator("[data-recovery-codes] li")).to_have_count(10)
    await page.get_by_role("link", name="I saved them, continue").click()
    await expect(page).to_have_url(f"{live_server.url}/console")
    assert await problems.all(page) == []
