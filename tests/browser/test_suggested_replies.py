"""Agent assist in a real Chromium, on a desktop and a phone: the conversation page suggests
earlier answers to the customer's last message, follows a new customer message live, and
Insert fills the composer without sending."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from rapport.core.db import Database
from rapport.support.enums import MessageKind
from rapport.support.schemas import MessageCreate
from rapport.support.service import conversations
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.identity import bearer, make_api_key
from tests.fixtures.server import LiveServer
from tests.fixtures.support import SYSTEM_ACTING
from tests.fixtures.support_console import conversation_url, make_desk, open_conversation

SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
RETURN_A = "You can return anything within 30 days from the Orders page of your account."
SHIPPING_A = "We ship within 2 business days and delivery takes 3 to 5 days."


@pytest.fixture(params=sorted(SIZES))
async def sized(request: pytest.FixtureRequest, browser: Browser) -> AsyncIterator[Page]:
    """A page in its own context, at a desktop's or a phone's size."""
    phone = request.param == "phone"
    context = await browser.new_context(
        viewport=SIZES[request.param], is_mobile=phone, has_touch=phone
    )
    page = await context.new_page()
    yield page
    await context.close()


async def _answered(database: Database, workspace_id: str, question: str, answer: str) -> None:
    conversation_id = await open_conversation(database, workspace_id, question)
    async with database.session() as session:
        reply = MessageCreate(kind=MessageKind.reply, body=answer)
        await conversations.post(session, workspace_id, conversation_id, reply, SYSTEM_ACTING)


async def test_suggestions_follow_the_customer_and_insert_into_the_composer(
    sized: Page, live_server: LiveServer, database: Database
) -> None:
    desk = await make_desk(database)
    workspace_id = desk.workspace.id
    await _answered(database, workspace_id, "How do I return the shoes I bought?", RETURN_A)
    await _answered(database, workspace_id, "How long does delivery to Germany take?", SHIPPING_A)
    conversation_id = await open_conversation(database, workspace_id, "Can I return my boots?")
    problems = await watch(sized)
    url = conversation_url(conversation_id)
    await sign_in_page(sized, live_server.url, desk.agent.email, desk.agent.password, url)
    panel = sized.get_by_role("region", name="Suggested replies")
    await expect(panel.locator(".tool-body")).to_have_text([RETURN_A])
    await expect(sized.locator("[data-live-topic]")).to_have_attribute("data-live", "connected")
    # The customer asks something else: the panel follows, without a reload.
    key = await make_api_key(database, desk.workspace)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        said = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"kind": "customer", "body": "And how many days is shipping to Berlin?"},
            headers=bearer(key),
        )
        assert said.status_code == 201
    await expect(panel.locator(".tool-body")).to_have_text([SHIPPING_A])
    # A push fetches the page's parts again and may redraw them: let those fetches settle, so
    # Insert is clicked where it is drawn (under CI's load a click once did nothing).
    await sized.wait_for_load_state("networkidle")
    width = await sized.evaluate("window.innerWidth")
    assert await sized.evaluate("document.documentElement.scrollWidth") <= width
    composer = sized.get_by_label("Message")
    await composer.fill("Hello!")
    await panel.get_by_role("button", name="Insert").click()
    await expect(composer).to_have_value(f"Hello!\n\n{SHIPPING_A}")
    await expect(composer).to_be_focused()
    # Nothing was sent: the thread holds the customer's two messages only.
    await expect(sized.locator("#thread .message-body")).to_have_count(2)
    assert await problems.all(sized) == []
