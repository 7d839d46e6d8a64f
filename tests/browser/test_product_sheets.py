"""Product fact sheets in a real Chromium: a supervisor writes one in the console on a phone
and tries a customer's question; on the demo shop page the assistant answers a product
question from the demo sheets, on a desktop and a phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from rapport.assistant.demo import seed_demo
from rapport.assistant.knowledge import use_search
from rapport.assistant.labels import use_models
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role
from rapport.identity.verification import identity_verification
from rapport.knowledge.demo import seed_demo as seed_knowledge
from rapport.web.widget.demo import DEMO_SLUG
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.identity import make_source, make_staff, make_workspace
from tests.fixtures.server import LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _shipped_models() -> Iterator[None]:
    """The shipped models and the knowledge base's own search (the live server runs here)."""
    use_models(None)
    use_search(None)
    yield
    use_models(None)
    use_search(None)


async def _fits(page: Page) -> None:
    width = await page.evaluate("window.innerWidth")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


async def test_a_sheet_is_written_and_tried_on_a_phone(
    sized: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    editor = await make_staff(database, workspace, Role.supervisor)
    problems = await watch(sized)
    await sign_in_page(sized, live_server.url, editor.email, editor.password, "/console/knowledge")
    await sized.get_by_role("link", name="Product fact sheets").click()
    await sized.get_by_role("link", name="New fact sheet").click()
    await sized.get_by_label("Product id").fill("trail-runner-2")
    await sized.get_by_label("Name (as customers say it)").fill("Trail runner")
    await sized.get_by_label("Facts, one a line").fill(
        "Weight: 280 g per shoe\nDrop: 6 mm\nWaterproof: no, the mesh dries fast"
    )
    await sized.get_by_role("button", name="Save").click()
    await expect(sized.get_by_role("heading", name="Trail runner")).to_be_visible()
    await _fits(sized)
    await sized.get_by_role("link", name="Product fact sheets").click()
    await sized.get_by_label("A customer's question").fill("Is the trail runner waterproof?")
    await sized.get_by_role("button", name="Ask").click()
    await expect(sized.locator("#sheet-answer")).to_contain_text(
        "Trail runner — Waterproof: no, the mesh dries fast"
    )
    await _fits(sized)
    await sized.screenshot(path=tmp_path / "product-sheets.png", full_page=True)
    assert await problems.all(sized) == []


async def test_the_demo_shop_answers_a_product_question(
    sized: Page, working_server: LiveServer, database: Database
) -> None:
    workspace = await make_workspace(database, DEMO_SLUG)
    source = await make_source(database, workspace, "Demo website")
    async with database.session() as session:
        await identity_verification.secret(
            session, workspace_id=workspace.id, source_id=source.id, actor=SYSTEM
        )
        await seed_demo(session, workspace.id)
    async with database.session() as session:
        await seed_knowledge(session, workspace.id)
    problems = await watch(sized)
    await sized.goto(f"{working_server.url}/demo/shop")
    await sized.get_by_role("button", name="Chat with us").click()
    chat = sized.get_by_role("dialog", name="Chat")
    await chat.get_by_label("Your message").fill("Is the linen shirt machine washable?")
    await chat.get_by_role("button", name="Send", exact=True).last.click()
    await expect(chat.locator(".msg").last).to_contain_text(
        "Linen shirt — Care: machine wash at 30 °C, line dry, iron while damp"
    )
    await _fits(sized)
    assert await problems.all(sized) == []
