"""Agent tools in a real Chromium, on a desktop and a phone: "/" in the composer finds a
canned response and inserts it filled; a macro applies in one click; shortcuts work, but
never while typing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from rapport.core.db import Database
from rapport.identity.enums import Scope
from tests.fixtures.agent_tools import make_canned_response, make_macro
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.identity import make_api_key
from tests.fixtures.server import LiveServer
from tests.fixtures.support_console import (
    Desk,
    conversation_url,
    make_desk,
    make_named_customer,
    open_conversation,
    post_conversation,
)

SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


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


async def _open(page: Page, live_server: LiveServer, database: Database) -> tuple[Desk, str]:
    desk = await make_desk(database)
    customer_id = await make_named_customer(database, desk.workspace.id, "Mia Berg")
    conversation_id = await open_conversation(
        database, desk.workspace.id, "Where is order 1042?", customer_id=customer_id, tags=["late"]
    )
    return desk, conversation_id


async def _fits(page: Page) -> None:
    width = await page.evaluate("window.innerWidth")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


async def test_slash_picks_a_canned_response_filled_for_the_customer(
    sized: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    desk, conversation_id = await _open(sized, live_server, database)
    body = (
        "Hi {{customer.first_name}}, order {{order.last.number}} left today. {{agent.first_name}}"
    )
    await make_canned_response(database, desk.workspace.id, "shipped", body)
    await make_canned_response(database, desk.workspace.id, "thanks")
    problems = await watch(sized)
    url = conversation_url(conversation_id)
    await sign_in_page(sized, live_server.url, desk.agent.email, desk.agent.password, url)
    composer = sized.get_by_label("Message")
    await expect(sized.locator("html")).to_have_attribute("data-shortcuts", "ready")
    await composer.click()
    await composer.press_sequentially("Hello! /sh")
    options = sized.get_by_role("listbox", name="Canned responses").get_by_role("option")
    await expect(options).to_have_text(["/shipped Shipped"])
    await sized.screenshot(path=tmp_path / "picker.png", full_page=True)
    await _fits(sized)
    await composer.press("Enter")
    first = desk.agent.user.display_name.split()[0]
    await expect(composer).to_have_value(f"Hello! Hi Mia, order 1042 left today. {first}")
    await expect(sized.locator("#canned-picker")).to_be_hidden()
    await sized.get_by_role("button", name="Send reply").click()
    await expect(sized.locator(".message-body").last).to_have_text(
        f"Hello! Hi Mia, order 1042 left today. {first}"
    )
    assert await problems.all(sized) == []


async def test_a_macro_applies_in_one_click(
    sized: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    desk, conversation_id = await _open(sized, live_server, database)
    canned_id = await make_canned_response(
        database, desk.workspace.id, "sorry", "Sorry, {{customer.first_name}}!"
    )
    actions = [
        {"type": "reply", "canned_response_id": canned_id},
        {"type": "add_tags", "tags": ["refund"]},
        {"type": "remove_tags", "tags": ["late"]},
        {"type": "set_priority", "priority": "high"},
        {"type": "set_status", "status": "resolved"},
    ]
    await make_macro(database, desk.workspace.id, actions, "Refund and close")
    problems = await watch(sized)
    url = conversation_url(conversation_id)
    await sign_in_page(sized, live_server.url, desk.agent.email, desk.agent.password, url)
    await _fits(sized)
    await sized.get_by_role("button", name="Refund and close").click()
    state = sized.locator("#state")
    await expect(state.locator("[data-status]")).to_have_text("Resolved")
    await expect(state.locator("[data-priority]")).to_have_text("High")
    await expect(state.locator("[data-tags] .tag")).to_have_text(["refund"])
    await expect(sized.locator(".message-body").last).to_have_text("Sorry, Mia!")
    await sized.screenshot(path=tmp_path / "macro.png", full_page=True)
    await _fits(sized)
    assert await problems.all(sized) == []


async def test_shortcuts_act_but_never_while_typing(
    page: Page, live_server: LiveServer, database: Database
) -> None:
    desk, conversation_id = await _open(page, live_server, database)
    problems = await watch(page)
    url = conversation_url(conversation_id)
    await sign_in_page(page, live_server.url, desk.agent.email, desk.agent.password, url)
    composer = page.get_by_label("Message")
    await expect(page.locator("html")).to_have_attribute("data-shortcuts", "ready")
    await page.keyboard.press("r")
    await expect(composer).to_be_focused()
    await page.keyboard.type("a e ?")
    await expect(composer).to_have_value("a e ?")
    await expect(page.locator("#state [data-status]")).to_have_text("Open")
    await composer.press("Escape")
    await page.keyboard.press("?")
    await expect(page.get_by_role("dialog")).to_be_visible()
    await page.get_by_role("button", name="Close").click()
    await page.keyboard.press("a")
    await expect(page.locator("#state [data-assignee]")).to_have_text(desk.agent.user.display_name)
    await expect(page.locator("html")).to_have_attribute("data-shortcuts", "ready")
    await page.keyboard.press("e")
    await expect(page.locator("#state [data-status]")).to_have_text("Resolved")
    assert await problems.all(page) == []


async def test_a_live_redraw_keeps_the_conversation_picked_with_the_keyboard(
    page: Page, live_server: LiveServer, database: Database
) -> None:
    """j picks a conversation; a push redraws the list; Enter still opens the one picked."""
    desk = await make_desk(database)
    key = await make_api_key(database, desk.workspace, [Scope.conversations_write])
    picked = await open_conversation(database, desk.workspace.id, "Where is my parcel?")
    await sign_in_page(
        page, live_server.url, desk.agent.email, desk.agent.password, "/console/inbox"
    )
    await expect(page.locator("#inbox-rows")).to_have_attribute("data-live", "connected")
    await expect(page.locator("html")).to_have_attribute("data-shortcuts", "ready")
    await page.keyboard.press("j")
    await expect(page.locator(".conversation-item.selected")).to_have_attribute(
        "data-conversation-id", picked
    )
    await post_conversation(live_server.url, key, "Refund asap")
    await expect(page.locator(".conversation-item")).to_have_count(2)
    await expect(page.locator(".conversation-item.selected")).to_have_attribute(
        "data-conversation-id", picked
    )
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{live_server.url}{conversation_url(picked)}")


async def test_j_and_k_move_through_the_inbox(
    page: Page, live_server: LiveServer, database: Database
) -> None:
    desk = await make_desk(database)
    older = await open_conversation(database, desk.workspace.id, "First")
    newer = await open_conversation(database, desk.workspace.id, "Second")
    await sign_in_page(
        page, live_server.url, desk.agent.email, desk.agent.password, "/console/inbox"
    )
    await expect(page.locator("html")).to_have_attribute("data-shortcuts", "ready")
    await page.keyboard.press("j")
    await expect(page.locator(".conversation-item.selected")).to_have_attribute(
        "data-conversation-id", newer
    )
    await page.keyboard.press("j")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{live_server.url}{conversation_url(older)}")
    await expect(page.locator("html")).to_have_attribute("data-shortcuts", "ready")
    await page.keyboard.press("k")
    await expect(page).to_have_url(f"{live_server.url}{conversation_url(newer)}")
