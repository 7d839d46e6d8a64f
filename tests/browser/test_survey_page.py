"""The public survey page in a real Chromium on a 390 px phone: it fits, the follow-up of
the chosen score appears, the answer is stored once."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from rapport.core.db import Database
from rapport.feedback.delivery import FollowedConversation, delivery
from rapport.feedback.links import LINK_PATH, survey_token
from rapport.feedback.service import feedback
from tests.fixtures.browser import watch
from tests.fixtures.feedback import make_customer, make_survey
from tests.fixtures.identity import make_workspace
from tests.fixtures.server import LiveServer
from tests.fixtures.support import make_conversation


async def _link(database: Database, base_url: str) -> str:
    workspace = await make_workspace(database)
    customer_id = await make_customer(database, workspace.id)
    survey = await make_survey(database, workspace.id, channels=["chat"])
    conversation_id = await make_conversation(database, workspace.id, customer_id=customer_id)
    async with database.session() as session:
        loaded = await feedback.get_survey(session, workspace.id, survey.id)
        followed = FollowedConversation(conversation_id, "chat", None, None)
        invitation = await delivery.send(session, workspace.id, loaded, customer_id, followed)
    assert invitation is not None
    return f"{base_url}{LINK_PATH}{survey_token(invitation.id)}"


async def test_a_customer_answers_on_a_phone(
    browser: Browser, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    link = await _link(database, live_server.url)
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    problems = await watch(page)
    await page.goto(link)
    follow_up = page.get_by_label("What could we do better?")
    await expect(follow_up).to_be_hidden()
    await page.locator(".score", has_text="2").first.click()
    await expect(follow_up).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    await page.screenshot(path=tmp_path / "survey-390.png", full_page=True)
    await follow_up.fill("Answer sooner, please")
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you!")
    assert width <= 390
    assert await problems.all(page) == []
    await page.goto(link)  # used: a clear page (the browser logs its 410 status)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Already answered")
    await context.close()
