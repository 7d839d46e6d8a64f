"""End to end in Chromium: a customer writes in the widget on the demo shop page, an agent
sees it live in the console and answers there, the customer sees the answer, and a reload of
either side loses nothing; on one server, and on two server processes over Redis."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from rapport.config import Settings
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role
from rapport.identity.verification import identity_verification
from rapport.web.widget.demo import DEMO_SLUG
from tests.fixtures.browser import PageProblems, sign_in_page, watch
from tests.fixtures.identity import StaffAccount, make_source, make_staff, make_workspace
from tests.fixtures.processes import ServerProcess, relaying_servers
from tests.fixtures.redis import NO_REDIS, any_redis, redis_available
from tests.fixtures.server import LiveServer

pytestmark = pytest.mark.e2e

QUESTION = "Do you ship to Norway?"
ANSWER = "We do, in 3 to 5 days."
THANKS = "Great, thank you!"


async def _demo_shop(database: Database) -> StaffAccount:
    """Set up the demo workspace as `rapport demo` does; return an agent of it."""
    workspace = await make_workspace(database, DEMO_SLUG)
    source = await make_source(database, workspace, "Demo website")
    async with database.session() as session:
        await identity_verification.secret(
            session, workspace_id=workspace.id, source_id=source.id, actor=SYSTEM
        )
    return await make_staff(database, workspace, Role.agent)


async def _open_chat(customer: Page, shop_url: str) -> None:
    await customer.goto(f"{shop_url}/demo/shop?signed_in=true")
    await customer.get_by_role("button", name="Chat with us").click()


async def _write(customer: Page, text: str) -> None:
    chat = customer.get_by_role("dialog", name="Chat")
    await chat.get_by_label("Your message").fill(text)
    await chat.get_by_role("button", name="Send", exact=True).last.click()


async def _chat(
    customer: Page, agent: Page, shop_url: str, console_url: str, staff: StaffAccount
) -> None:
    """Drive both sides: the customer on `shop_url`, the agent on `console_url`."""
    await sign_in_page(agent, console_url, staff.email, staff.password, "/console/inbox")
    await expect(agent.locator("[data-live-topic]")).to_have_attribute("data-live", "connected")
    await _open_chat(customer, shop_url)
    await _write(customer, QUESTION)
    row = agent.locator(".conversation-item")
    await expect(row).to_have_count(1)  # live, without a reload
    await agent.locator(".conversation-link").click()
    await expect(agent).to_have_url(re.compile(r"/console/inbox/conversations/[0-9a-f]{32}$"))
    thread = agent.locator("#thread .message-body")
    await expect(thread).to_have_text([QUESTION])
    await expect(agent.locator("[data-live-topic]")).to_have_attribute("data-live", "connected")
    await agent.get_by_label("Message").fill(ANSWER)
    await agent.get_by_role("button", name="Send reply").click()
    texts = customer.get_by_role("dialog", name="Chat").locator(".msg")
    await expect(texts).to_have_text([QUESTION, ANSWER])
    await _write(customer, THANKS)
    await expect(thread).to_have_text([QUESTION, ANSWER, THANKS])  # live on the agent's page


async def _both_reload(customer: Page, agent: Page) -> None:
    await customer.reload()
    await customer.get_by_role("button", name="Chat with us").click()
    texts = customer.get_by_role("dialog", name="Chat").locator(".msg")
    await expect(texts).to_have_text([QUESTION, ANSWER, THANKS])
    await agent.reload()
    await expect(agent.locator("#thread .message-body")).to_have_text([QUESTION, ANSWER, THANKS])


async def _pages(browser: Browser) -> tuple[Page, Page, PageProblems, PageProblems]:
    """A customer and an agent, each in a browser context of their own."""
    customer = await (await browser.new_context()).new_page()
    agent = await (await browser.new_context()).new_page()
    return customer, agent, await watch(customer), await watch(agent)


async def test_a_customer_and_an_agent_chat_live_and_reloads_lose_nothing(
    browser: Browser, live_server: LiveServer, database: Database
) -> None:
    staff = await _demo_shop(database)
    customer, agent, customer_problems, agent_problems = await _pages(browser)
    try:
        await _chat(customer, agent, live_server.url, live_server.url, staff)
        await _both_reload(customer, agent)
        assert await customer_problems.all(customer) == []
        assert await agent_problems.all(agent) == []
    finally:
        await customer.context.close()
        await agent.context.close()


@pytest.fixture
def two_servers(settings: Settings, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Two `rapport serve` processes on the test's PostgreSQL database and a real Redis."""
    if settings.is_sqlite:
        pytest.skip("PostgreSQL variant only: two server processes share PostgreSQL")
    if not redis_available():
        pytest.skip(NO_REDIS)
    assert settings.secret_key is not None
    with (
        any_redis(tmp_path / "redis") as url,
        relaying_servers(
            2,
            database_url=settings.database_url,
            secret_key=settings.secret_key.get_secret_value(),
            redis_url=url,
            data_dir=tmp_path / "servers",
        ) as servers,
    ):
        yield servers


async def test_the_customer_on_one_process_and_the_agent_on_another_chat_live(
    browser: Browser, two_servers: list[ServerProcess], database: Database
) -> None:
    staff = await _demo_shop(database)
    shop, desk = two_servers
    customer, agent, customer_problems, agent_problems = await _pages(browser)
    try:
        await _chat(customer, agent, shop.url, desk.url, staff)
        await _both_reload(customer, agent)
        assert await customer_problems.all(customer) == []
        assert await agent_problems.all(agent) == []
    finally:
        await customer.context.close()
        await agent.context.close()
