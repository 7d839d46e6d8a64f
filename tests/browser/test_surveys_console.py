"""The surveys console in Chromium: an NPS survey with a follow-up written, previewed as the
customer sees it, saved and turned off, at 1440 px; and every surveys page on a 390 px
phone without sideways scrolling."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from rapport.core.db import Database
from rapport.feedback.service import feedback
from rapport.identity.enums import Role
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.feedback import make_customer, make_survey
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.server import LiveServer

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


async def _fits(page: Page, width: int) -> None:
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width} px wide"


async def test_an_nps_survey_with_a_follow_up_is_written_previewed_and_saved(
    browser: Browser, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    owner = await make_staff(database, workspace, Role.owner)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    problems = await watch(page)
    await sign_in_page(page, live_server.url, owner.email, owner.password, "/console/surveys")
    navigation = page.get_by_role("navigation", name="Main")
    await expect(navigation.get_by_role("link", name="Surveys")).to_have_attribute(
        "aria-current", "page"
    )
    await page.get_by_role("link", name="New survey").click()
    await page.get_by_label("Name (only your team sees it)").fill("After delivery")
    await page.get_by_label("Wording").first.fill("Would you recommend our shop?")
    await page.get_by_label("Follow-up question 1").first.fill("What should we fix first?")
    await page.get_by_role("button", name="Add another question").click()
    await expect(page.locator('select[name="q2_type"]')).to_have_count(1)
    await page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview")
    await expect(preview.get_by_text("Would you recommend our shop?")).to_be_visible()
    follow_up = preview.get_by_text("What should we fix first?")
    await expect(follow_up).to_be_hidden()
    await preview.locator("label.score", has_text=re.compile(r"^3$")).click()
    await expect(follow_up).to_be_visible()
    await _fits(page, DESKTOP["width"])
    await page.screenshot(path=tmp_path / "editor-1440.png", full_page=True)
    await page.get_by_role("button", name="Create survey").click()
    await expect(page.get_by_role("status")).to_have_text("Survey saved.")
    await page.get_by_role("link", name="Open the customer's page").click()
    await expect(
        page.get_by_text("Preview: this is the page a customer's link opens.")
    ).to_be_visible()
    await expect(page.get_by_role("button", name="Send")).to_be_disabled()
    await page.locator("label.score", has_text=re.compile(r"^2$")).click()
    await expect(page.get_by_text("What should we fix first?")).to_be_visible()
    await page.get_by_role("link", name="Back to the survey").click()
    await page.get_by_role("link", name="← Surveys").click()
    row = page.locator("tbody tr", has_text="After delivery")
    await expect(row).to_contain_text("NPS (0-10)")
    await row.get_by_role("button", name="Turn off After delivery").click()
    await expect(row.get_by_role("button", name="Turn on After delivery")).to_be_visible()
    await _fits(page, DESKTOP["width"])
    async with database.session() as session:
        (survey,) = await feedback.list_surveys(session, workspace.id)
    assert survey.active is False
    assert survey.questions[0].follow_ups[0].text == "What should we fix first?"
    await row.get_by_role("link", name=re.compile("After delivery")).first.click()
    page.once("dialog", lambda dialog: dialog.dismiss())  # asked first; "no" keeps it
    await page.get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("button", name="Delete")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("status")).to_contain_text("deleted")
    async with database.session() as session:
        assert await feedback.list_surveys(session, workspace.id) == []
    assert await problems.all(page) == []
    await context.close()


async def test_the_surveys_pages_fit_a_phone(
    browser: Browser, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    workspace = await make_workspace(database, "a-shop-with-a-rather-long-name-for-surveys")
    owner = await make_staff(database, workspace, Role.owner)
    survey = await make_survey(
        database,
        workspace.id,
        name="Satisfaction after a resolved conversation, with a long name",
        channels=["chat", "email", "sms"],
    )
    await make_customer(database, workspace.id)
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    problems = await watch(page)
    await sign_in_page(page, live_server.url, owner.email, owner.password, "/console/surveys")
    base = f"/console/surveys/{survey.id}"
    for path in (
        "/console/surveys",
        "/console/surveys/new?kind=custom",
        f"{base}/edit",
        f"{base}/preview",
        f"{base}/campaign",
        f"{base}/responses",
    ):
        await page.goto(f"{live_server.url}{path}")
        await expect(page.locator("h1")).to_be_visible()
        await _fits(page, PHONE["width"])
        name = path.strip("/").replace("/", "-").replace("?", "-")
        await page.screenshot(path=tmp_path / f"{name}.png", full_page=True)
    await page.goto(f"{live_server.url}{base}/campaign")
    await expect(page.get_by_role("button", name="Send to 1 customer")).to_be_visible()
    await page.get_by_label("Only customers with orders").check()
    await expect(page.locator(".campaign-count")).to_have_text("0 customers match these filters.")
    await expect(page.get_by_role("button", name=re.compile("^Send to"))).to_have_count(0)
    await page.goto(f"{live_server.url}{base}/edit")
    await page.get_by_role("button", name="Preview").click()
    await expect(page.locator("#preview legend").first).to_be_visible()
    await _fits(page, PHONE["width"])
    assert await problems.all(page) == []
    await context.close()
