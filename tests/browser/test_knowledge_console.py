"""The knowledge console in a browser: an article written and previewed, and a suggested
article inserted into a reply."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from rapport.core.db import Database
from rapport.identity.enums import Role
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.knowledge import make_article
from tests.fixtures.server import LiveServer
from tests.fixtures.support_console import conversation_url, open_conversation


async def test_an_article_is_written_previewed_and_published(
    page: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    editor = await make_staff(database, workspace, Role.supervisor)
    problems = await watch(page)
    await sign_in_page(page, live_server.url, editor.email, editor.password, "/console/knowledge")
    await page.get_by_role("link", name="New article").click()
    await page.get_by_label("Title", exact=True).fill("Gift cards")
    await page.get_by_label("Text (markdown)").fill("Gift cards **never** expire.")
    await page.get_by_role("button", name="Preview").click()
    await expect(page.locator("#preview strong")).to_have_text("never")
    await page.get_by_role("button", name="Save").click()
    await page.get_by_role("button", name="Publish").click()
    await expect(page.get_by_role("link", name="view in the help center")).to_be_visible()
    await page.screenshot(path=tmp_path / "article.png", full_page=True)
    assert await problems.all(page) == []


async def test_a_suggested_article_is_inserted_into_the_reply(
    page: Page, live_server: LiveServer, database: Database
) -> None:
    workspace = await make_workspace(database)
    agent = await make_staff(database, workspace, Role.agent)
    await make_article(
        database, workspace.id, "Gift cards", "Gift cards never expire.", slug="gift-cards"
    )
    conversation_id = await open_conversation(database, workspace.id, "Do gift cards expire?")
    url = conversation_url(conversation_id)
    problems = await watch(page)
    await sign_in_page(page, live_server.url, agent.email, agent.password, url)
    panel = page.locator("#suggested-articles")
    await expect(panel.get_by_role("link", name="Gift cards")).to_be_visible()
    await panel.get_by_role("button", name="Insert").click()
    link = f"{live_server.url}/help/{workspace.slug}/en/gift-cards"
    await expect(page.get_by_label("Message")).to_have_value(
        f"Gift cards\nGift cards never expire.\n{link}"
    )
    assert await problems.all(page) == []
