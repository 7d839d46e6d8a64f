"""The chat widget in Chromium on the demo shop page: a customer writes, an agent's reply
shows live, a reload loses nothing, and the page with the chat open fits a phone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.verification import identity_verification
from rapport.web.widget.demo import DEMO_SLUG
from tests.fixtures.browser import watch
from tests.fixtures.identity import bearer, make_api_key, make_source, make_workspace
from tests.fixtures.server import LiveServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    """A page in its own context with a phone's viewport."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    yield page
    await context.close()


async def _demo(database: Database) -> str:
    """Set up the demo workspace as `rapport demo` does; return an API key of it."""
    workspace = await make_workspace(database, DEMO_SLUG)
    source = await make_source(database, workspace, "Demo website")
    async with database.session() as session:
        await identity_verification.secret(
            session, workspace_id=workspace.id, source_id=source.id, actor=SYSTEM
        )
    return await make_api_key(database, workspace)


async def _reply(server: LiveServer, key: str, text: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(key)) as client:
        listed = await client.get("/api/v1/conversations?channel=chat")
        [conversation] = listed.json()["items"]
        posted = await client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"kind": "reply", "body": text},
        )
        assert posted.status_code == 201


async def test_a_customer_chats_with_an_agent_and_a_reload_loses_nothing(
    page: Page, live_server: LiveServer, database: Database
) -> None:
    key = await _demo(database)
    problems = await watch(page)
    await page.goto(f"{live_server.url}/demo/shop?signed_in=true")
    await page.get_by_role("button", name="Chat with us").click()
    chat = page.get_by_role("dialog", name="Chat")
    await chat.get_by_label("Your message").fill("Does the shirt run small?")
    await chat.get_by_role("button", name="Send", exact=True).last.click()
    log = chat.get_by_role("log")
    await expect(log).to_contain_text("Does the shirt run small?")
    await expect(log).not_to_contain_text("Sending…")
    await _reply(live_server, key, "It runs true to size.")
    await expect(log).to_contain_text("It runs true to size.")
    await page.reload()
    await page.get_by_role("button", name="Chat with us").click()
    texts = page.get_by_role("dialog", name="Chat").locator(".msg")
    await expect(texts).to_have_text(["Does the shirt run small?", "It runs true to size."])
    assert await problems.all(page) == []


async def test_a_card_number_sent_shows_masked_as_stored(
    page: Page, live_server: LiveServer, database: Database
) -> None:
    await _demo(database)
    problems = await watch(page)
    await page.goto(f"{live_server.url}/demo/shop")
    await page.get_by_role("button", name="Chat with us").click()
    chat = page.get_by_role("dialog", name="Chat")
    await chat.get_by_label("Your message").fill(
        "My card is 4111 1111 1111 1111, see https://x.test/a"
    )
    await chat.get_by_role("button", name="Send", exact=True).last.click()
    log = chat.get_by_role("log")
    mine = log.locator(".msg.mine")
    await expect(mine).to_have_text(["My card is **** **** **** 1111, see https://x.test/a"])
    await expect(log).not_to_contain_text("Sending…")
    await expect(log).not_to_contain_text("4111 1111")
    link = mine.get_by_role("link", name="https://x.test/a")
    await expect(link).to_have_attribute("href", "https://x.test/a")
    await expect(link).to_have_attribute("rel", "noopener noreferrer nofollow ugc")
    assert await problems.all(page) == []


async def test_an_email_left_while_no_one_is_online_is_not_asked_again(
    page: Page, live_server: LiveServer, database: Database
) -> None:
    await _demo(database)
    problems = await watch(page)
    await page.goto(f"{live_server.url}/demo/shop")
    await page.get_by_role("button", name="Chat with us").click()
    chat = page.get_by_role("dialog", name="Chat")
    await expect(chat).to_contain_text("No one is online right now. Leave your email")
    await chat.get_by_label("Your email").fill("ana@example.com")
    await chat.get_by_role("button", name="Send", exact=True).first.click()
    await expect(chat).to_contain_text("Thanks, we'll reply by email.")
    await page.reload()  # it asked again after a reload
    await page.get_by_role("button", name="Chat with us").click()
    chat = page.get_by_role("dialog", name="Chat")
    await expect(chat).to_contain_text("Thanks, we'll reply by email.")
    await expect(chat.get_by_label("Your email")).to_be_hidden()
    assert await problems.all(page) == []


async def test_the_chat_opens_at_its_latest_message_after_a_reload(
    phone: Page, live_server: LiveServer, database: Database
) -> None:
    key = await _demo(database)
    await phone.goto(f"{live_server.url}/demo/shop")
    await phone.get_by_role("button", name="Chat with us").click()
    chat = phone.get_by_role("dialog", name="Chat")
    await chat.get_by_label("Your message").fill("<b>Hello</b>, see www.x.test")
    await chat.get_by_role("button", name="Send", exact=True).last.click()
    log = chat.get_by_role("log")
    await expect(log).not_to_contain_text("Sending…")
    for number in range(12):
        await _reply(live_server, key, f"Line {number} of a long answer.\nIt goes on.")
    await expect(log).to_contain_text("Line 11 of a long answer.")
    await phone.reload()
    await phone.get_by_role("button", name="Chat with us").click()
    log = phone.get_by_role("dialog", name="Chat").get_by_role("log")
    await expect(log).to_contain_text("Line 11 of a long answer.")
    await expect(log.locator(".msg").first).to_have_text("<b>Hello</b>, see www.x.test")
    await expect(log.get_by_text("Line 11 of a long answer.")).to_be_in_viewport()
    assert await log.evaluate("node => node.scrollHeight > node.clientHeight + 100")


async def test_the_demo_shop_with_the_chat_open_fits_a_phone(
    phone: Page, live_server: LiveServer, database: Database
) -> None:
    await _demo(database)
    problems = await watch(phone)
    await phone.goto(f"{live_server.url}/demo/shop")
    await phone.get_by_role("button", name="Chat with us").click()
    chat = phone.get_by_role("dialog", name="Chat")
    await expect(chat.get_by_label("Your message")).to_be_focused()
    await expect(chat).to_contain_text("No one is online right now.")
    box = await chat.bounding_box()
    assert box is not None and (box["x"], box["width"]) == (0, PHONE["width"])
    assert await phone.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    assert await problems.all(phone) == []
