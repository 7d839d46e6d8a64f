"""Quick replies in a real Chromium on the demo shop page: the assistant asks to confirm a
cancellation, Yes / No buttons appear under the question, a tap (or the keyboard) answers
as typed words would, and the buttons go once answered; on a desktop and a phone."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect

from rapport.assistant import replies
from rapport.assistant.demo import DEMO_CUSTOMER_EMAIL, seed_demo
from rapport.assistant.knowledge import use_search
from rapport.assistant.labels import use_models
from rapport.core.db import Database
from rapport.events.order_actions import order_actions
from rapport.identity.audit import SYSTEM
from rapport.identity.verification import identity_verification
from rapport.web.widget.demo import DEMO_SLUG
from tests.fixtures.assistant import use_fakes
from tests.fixtures.browser import SIZES, watch
from tests.fixtures.identity import make_source, make_workspace
from tests.fixtures.server import LiveServer

pytestmark = pytest.mark.e2e

ASKED = "To check it's your order, what email address did you order with?"
QUESTION = 'Shall I cancel order 1002 (49.00 EUR)? Reply "yes" to confirm or "no" to leave it.'


@pytest.fixture(autouse=True)
def _fake_models() -> Iterator[None]:
    """Label with the keyword fakes (the live server runs in this process)."""
    use_fakes()
    yield
    use_models(None)
    use_search(None)


async def _demo_shop(database: Database) -> str:
    """Set up the demo workspace as `rapport demo` does (assistant on for the widget, order
    1002 not shipped yet); return its id."""
    workspace = await make_workspace(database, DEMO_SLUG)
    source = await make_source(database, workspace, "Demo website")
    async with database.session() as session:
        await identity_verification.secret(
            session, workspace_id=workspace.id, source_id=source.id, actor=SYSTEM
        )
        await seed_demo(session, workspace.id)
    return workspace.id


async def _order_status(database: Database, workspace_id: str) -> str:
    async with database.session() as session:
        facts = await order_actions.visible_to(
            session, workspace_id, "1002", customer_id=None, email=DEMO_CUSTOMER_EMAIL
        )
    assert facts is not None and facts.total == Decimal("49.00")
    return str(facts.status)


async def _ask_to_cancel(page: Page, url: str) -> None:
    await page.goto(f"{url}/demo/shop")  # not signed in: the assistant asks for the email
    await page.get_by_role("button", name="Chat with us").click()
    chat = page.get_by_role("dialog", name="Chat")
    for text, answer in (("Please cancel order 1002", ASKED), (DEMO_CUSTOMER_EMAIL, QUESTION)):
        await chat.get_by_label("Your message").fill(text)
        await chat.get_by_role("button", name="Send", exact=True).last.click()
        await expect(chat.locator(".msg").last).to_have_text(answer)
        if answer == ASKED:
            await expect(chat.get_by_role("group", name="Quick replies")).to_have_count(0)


async def _fits(page: Page) -> None:
    width = await page.evaluate("window.innerWidth")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


async def test_tapping_yes_cancels_the_order(
    sized: Page, working_server: LiveServer, database: Database
) -> None:
    workspace_id = await _demo_shop(database)
    problems = await watch(sized)
    await _ask_to_cancel(sized, working_server.url)
    chat = sized.get_by_role("dialog", name="Chat")
    choices = chat.get_by_role("group", name="Quick replies").get_by_role("button")
    await expect(choices).to_have_text(["Yes", "No"])
    box = await choices.first.bounding_box()
    assert box is not None and box["height"] >= 44  # a finger's target
    await _fits(sized)
    if sized.viewport_size == SIZES["phone"]:
        await choices.first.tap()
    else:
        await choices.first.click()
    await expect(chat.locator(".msg")).to_have_text(
        [
            "Please cancel order 1002",
            ASKED,
            DEMO_CUSTOMER_EMAIL,
            QUESTION,
            "yes",
            "Order 1002 is cancelled. Anything else I can help with?",
        ]
    )
    await expect(chat.get_by_role("group", name="Quick replies")).to_have_count(0)
    assert await _order_status(database, workspace_id) == "cancelled"
    assert await problems.all(sized) == []


async def test_no_by_keyboard_keeps_the_order(
    page: Page, working_server: LiveServer, database: Database
) -> None:
    workspace_id = await _demo_shop(database)
    problems = await watch(page)
    await _ask_to_cancel(page, working_server.url)
    chat = page.get_by_role("dialog", name="Chat")
    no = chat.get_by_role("group", name="Quick replies").get_by_role("button", name="No")
    await no.focus()
    await page.keyboard.press("Enter")
    await expect(chat.locator(".msg").nth(4)).to_have_text("no")
    await expect(chat.locator(".msg")).to_have_count(6)
    await expect(chat.get_by_role("group", name="Quick replies")).to_have_count(0)
    assert await _order_status(database, workspace_id) != "cancelled"
    # A reload shows the thread without buttons: the question is answered.
    await page.reload()
    await page.get_by_role("button", name="Chat with us").click()
    await expect(chat.locator(".msg")).to_have_count(6)
    await expect(chat.get_by_role("group", name="Quick replies")).to_have_count(0)
    assert await problems.all(page) == []


async def test_a_spanish_page_speaks_spanish_and_si_confirms(
    page: Page, working_server: LiveServer, database: Database
) -> None:
    use_models(None)  # the shipped models: they read Spanish and tell the language
    workspace_id = await _demo_shop(database)
    problems = await watch(page)
    await page.goto(f"{working_server.url}/demo/shop?lang=es")
    await page.get_by_role("button", name="Chatea con nosotros").click()
    chat = page.get_by_role("dialog", name="Chat")
    spanish = replies.SPANISH
    question = (
        "¿Quiere que cancele el pedido 1002 (49,00 EUR)? Responda «sí» para confirmar o «no» "
        "para dejarlo como está."
    )
    for text, answer in (
        ("Hola, quiero cancelar el pedido 1002 por favor", spanish.ask_email),
        (DEMO_CUSTOMER_EMAIL, question),
    ):
        await chat.get_by_label("Su mensaje").fill(text)
        await chat.get_by_role("button", name="Enviar", exact=True).last.click()
        await expect(chat.locator(".msg").last).to_have_text(answer)
    choices = chat.get_by_role("group", name="Respuestas rápidas").get_by_role("button")
    await expect(choices).to_have_text(["Sí", "No"])
    await choices.first.click()
    await expect(chat.locator(".msg").nth(4)).to_have_text("sí")
    await expect(chat.locator(".msg").last).to_have_text(
        "El pedido 1002 está cancelado. ¿Puedo ayudarle en algo más?"
    )
    assert await _order_status(database, workspace_id) == "cancelled"
    assert await problems.all(page) == []
