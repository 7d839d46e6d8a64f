"""The custom intents page in Chromium: a supervisor adds one from the assistant page and
changes it (a hand-off, then an order task with no answer); on a 390 px phone the page, its
forms and a warning about a built-in intent fit the screen."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.async_api import Page, expect

from rapport.assistant.custom_intents import custom_intents
from rapport.assistant.repository import CustomIntentDayRepository
from rapport.assistant.schemas import CustomIntentWrite
from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role
from rapport.knowledge.embedding import use_embedder
from rapport.nlp.fakes import FakeEmbedder
from tests.browser.test_phone_width import PHONE, _width, phone  # noqa: F401 (fixture)
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.server import LiveServer

LONG = "Could you please tell me whether gift wrapping with a handwritten card is possible"


async def test_a_supervisor_adds_and_changes_an_intent(
    page: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    use_embedder(FakeEmbedder())
    try:
        editor = await make_staff(database, await make_workspace(database), Role.supervisor)
        problems = await watch(page)
        await sign_in_page(
            page, live_server.url, editor.email, editor.password, "/console/assistant"
        )
        await page.get_by_role("link", name="custom intents").click()
        form = page.locator("#new-intent")
        await form.get_by_label("Name").fill("gift_wrap")
        await form.get_by_label("Examples, one a line").fill("Can you gift wrap it?\nGift wrap?")
        await form.get_by_label("Answer").fill("Yes, at checkout.")
        await form.get_by_role("button", name="Add").click()
        card = page.locator("#intent-gift_wrap")
        await expect(card.get_by_role("heading")).to_have_text("gift_wrap On")
        await expect(card).to_contain_text("2 examples; answers: “Yes, at checkout.”")
        await card.get_by_text("Edit").click()
        await card.get_by_label("Answer").fill("Yes, free of charge.")
        await card.get_by_role("checkbox", name="On", exact=True).uncheck()
        await card.get_by_label("Then").select_option(label="Hand the conversation to people")
        await card.get_by_role("button", name="Save").click()
        await expect(page.locator("#intent-gift_wrap h2")).to_have_text("gift_wrap Off")
        await expect(page.locator("#intent-gift_wrap")).to_contain_text(
            "“Yes, free of charge.”, then hands off"
        )
        card = page.locator("#intent-gift_wrap")
        await card.get_by_text("Edit").click()
        await card.get_by_label("Answer").fill("")
        await card.get_by_label("Then").select_option(label="Look up the order's status")
        await card.get_by_role("button", name="Save").click()
        await expect(page.locator("#intent-gift_wrap")).to_contain_text(
            "2 examples; then: look up the order's status"
        )
        await page.screenshot(path=tmp_path / "intents.png", full_page=True)
        assert await problems.all(page) == []
    finally:
        use_embedder(None)


async def test_the_page_fits_a_390_pixel_phone(
    phone: Page,  # noqa: F811
    live_server: LiveServer,
    database: Database,
    tmp_path: Path,
) -> None:
    use_embedder(FakeEmbedder())
    try:
        workspace = await make_workspace(database)
        owner = await make_staff(database, workspace, Role.owner)
        body = CustomIntentWrite(
            name="gift_wrapping_with_a_handwritten_card_for_orders",
            examples=[LONG, "Gift wrap?", "Where is my order? I want to track it"],
            answer=LONG + ": yes, tick the box at checkout and write your message there.",
        )
        async with database.session() as session:
            intent = await custom_intents.create(session, workspace.id, body, SYSTEM)
            days = CustomIntentDayRepository(session, workspace.id)
            for back in (0, 0, 1, 5, 29):
                await days.add_match(intent.id, utcnow().date() - timedelta(days=back))
        problems = await watch(phone)
        await sign_in_page(phone, live_server.url, owner.email, owner.password, "/console")
        url = f"{live_server.url}/console/assistant-intents"
        assert await _width(phone, url) <= PHONE["width"]
        await expect(phone.locator(".intent-warning")).to_contain_text("track_order")
        await expect(phone.locator("[data-matches]")).to_contain_text(
            "5 messages took it in the last 30 days (2 today)"
        )
        await phone.get_by_text("Edit").click()
        await expect(phone.get_by_role("button", name="Save")).to_be_visible()
        width = await phone.evaluate("document.documentElement.scrollWidth")
        await phone.screenshot(path=tmp_path / "intents-phone.png", full_page=True)
        assert width <= PHONE["width"]
        assert await problems.all(phone) == []
    finally:
        use_embedder(None)
