"""The agent console in a real Chromium: answers show up live in another tab, new
conversations appear in the inbox without a reload, a message written while the page's
socket was still opening is not lost, and both pages fit a phone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, expect

from rapport.core.db import Database
from rapport.identity.enums import Scope
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.identity import bearer, make_api_key
from tests.fixtures.server import LiveServer
from tests.fixtures.support_console import (
    conversation_url,
    make_desk,
    make_named_customer,
    open_conversation,
    post_conversation,
)

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
STAY = "window.__stayed = true"
STAYED = "window.__stayed === true"


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    """A page in its own context with a phone's viewport."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    yield page
    await context.close()


async def test_a_reply_shows_live_in_another_tab(
    page: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    desk = await make_desk(database)
    customer_id = await make_named_customer(database, desk.workspace.id, "Mia Berg")
    conversation_id = await open_conversation(
        database, desk.workspace.id, "Where is my rain jacket?", customer_id=customer_id
    )
    url = conversation_url(conversation_id)
    problems = await watch(page)
    await sign_in_page(page, live_server.url, desk.agent.email, desk.agent.password, url)
    other = await page.context.new_page()
    other_problems = await watch(other)
    await other.goto(f"{live_server.url}{url}")
    await expect(other.locator("[data-live-topic]")).to_have_attribute("data-live", "connected")
    await other.evaluate(STAY)
    await page.get_by_label("Message").fill("It left our warehouse today.")
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.locator(".message-body").last).to_have_text("It left our warehouse today.")
    thread = other.locator("#thread .message-body")
    await expect(thread).to_have_text(["Where is my rain jacket?", "It left our warehouse today."])
    await page.get_by_label("Status").select_option("resolved")
    await page.get_by_role("button", name="Change status").click()
    await expect(other.locator("#state [data-status]")).to_have_text("Resolved")
    assert await other.evaluate(STAYED)
    await other.screenshot(path=tmp_path / "conversation.png", full_page=True)
    assert await problems.all(page) == []
    assert await other_problems.all(other) == []


async def test_a_new_conversation_appears_in_the_inbox_without_reload(
    page: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    desk = await make_desk(database)
    key = await make_api_key(database, desk.workspace, [Scope.conversations_write])
    problems = await watch(page)
    await sign_in_page(
        page, live_server.url, desk.agent.email, desk.agent.password, "/console/inbox"
    )
    await expect(page.locator(".empty")).to_have_text("No conversations here.")
    await expect(page.locator("[data-live-topic]")).to_have_attribute("data-live", "connected")
    await page.evaluate(STAY)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        body = {"channel": "phone", "message": {"kind": "customer", "body": "Refund asap"}}
        response = await client.post("/api/v1/conversations", json=body, headers=bearer(key))
        assert response.status_code == 201
    row = page.locator(".conversation-item")
    await expect(row).to_have_count(1)
    await expect(row.locator("[data-priority]")).to_have_text("Urgent")
    assert await page.evaluate(STAYED)
    await page.screenshot(path=tmp_path / "inbox.png", full_page=True)
    assert await problems.all(page) == []


async def test_a_live_redraw_waits_for_a_press_to_end(
    page: Page, live_server: LiveServer, database: Database
) -> None:
    """A click is a press and a release on one element: a redraw of the list in between
    would swallow it. The list is redrawn once the press ends, and the click goes through."""
    desk = await make_desk(database)
    key = await make_api_key(database, desk.workspace, [Scope.conversations_write])
    first = await open_conversation(database, desk.workspace.id, "Where is my parcel?")
    problems = await watch(page)
    await sign_in_page(
        page, live_server.url, desk.agent.email, desk.agent.password, "/console/inbox"
    )
    rows = page.locator("#inbox-rows")
    await expect(rows).to_have_attribute("data-live", "connected")
    await expect(rows.locator(".conversation-item")).to_have_count(1)
    link = rows.locator(f'[data-conversation-id="{first}"] .conversation-link')

    async def press(body: str) -> None:
        shown = await rows.locator(".conversation-item").count()
        await link.hover()  # waits until it is stable, whatever redraws came before
        await page.mouse.down()
        await post_conversation(live_server.url, key, body)
        await expect(rows).to_have_attribute("data-stale", "")
        await expect(rows.locator(".conversation-item")).to_have_count(shown)

    # Pressed, then released elsewhere: no click, and the list catches up on release.
    await press("Refund asap")
    await page.mouse.move(5, 5)
    await page.mouse.up()
    await expect(rows.locator(".conversation-item")).to_have_count(2)
    await expect(rows).not_to_have_attribute("data-stale", "")
    # A right-button press does not click: the list is redrawn under it at once.
    await link.hover()
    await page.mouse.down(button="right")
    await post_conversation(live_server.url, key, "Gift wrap?")
    await expect(rows.locator(".conversation-item")).to_have_count(3)
    await page.mouse.up(button="right")
    await page.keyboard.press("Escape")
    # Pressed and released on the conversation while a new one arrives: the click opens it.
    await press("Do you ship to Norway?")
    await page.mouse.up()
    await expect(page).to_have_url(f"{live_server.url}{conversation_url(first)}")
    assert await problems.all(page) == []


async def test_a_message_written_before_the_socket_opens_still_shows(
    page: Page, live_server: LiveServer, database: Database
) -> None:
    """The page is drawn, then its socket opens: what was written in between is fetched."""
    desk = await make_desk(database)
    key = await make_api_key(database, desk.workspace, [Scope.conversations_write])
    conversation_id = await open_conversation(database, desk.workspace.id, "Is it in stock?")
    problems = await watch(page)
    await sign_in_page(page, live_server.url, desk.agent.email, desk.agent.password, "/console")
    asked = asyncio.Event()
    released = asyncio.Event()

    async def hold(socket: WebSocketRoute) -> None:
        asked.set()
        await released.wait()
        socket.connect_to_server()

    await page.route_web_socket("**/ws?topic=*", hold)
    await page.goto(f"{live_server.url}{conversation_url(conversation_id)}")
    thread = page.locator("#thread .message-body")
    await expect(thread).to_have_text(["Is it in stock?"])
    await asyncio.wait_for(asked.wait(), 10)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        body = {"kind": "customer", "body": "Size M, please."}
        path = f"/api/v1/conversations/{conversation_id}/messages"
        response = await client.post(path, json=body, headers=bearer(key))
        assert response.status_code == 201, response.text
    released.set()
    await expect(page.locator("[data-live-topic]")).to_have_attribute("data-live", "connected")
    await expect(thread).to_have_text(["Is it in stock?", "Size M, please."])
    assert await problems.all(page) == []


async def test_inbox_and_conversation_fit_a_phone(
    phone: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    desk = await make_desk(database)
    customer_id = await make_named_customer(database, desk.workspace.id, "Maximiliane Bergström")
    conversation_id = await open_conversation(
        database,
        desk.workspace.id,
        "My order number ORDER-0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ never arrived " * 3,
        customer_id=customer_id,
        tags=["a-rather-long-tag-name", "returns"],
    )
    problems = await watch(phone)
    await sign_in_page(
        phone, live_server.url, desk.agent.email, desk.agent.password, "/console/inbox"
    )
    await expect(phone.locator(".conversation-item")).to_have_count(1)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
    await phone.screenshot(path=tmp_path / "inbox-phone.png", full_page=True)
    await phone.locator(".conversation-link").click()
    await expect(phone).to_have_url(f"{live_server.url}{conversation_url(conversation_id)}")
    await expect(phone.get_by_role("button", name="Send reply")).to_be_visible()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
    await phone.screenshot(path=tmp_path / "conversation-phone.png", full_page=True)
    assert await problems.all(phone) == []
