"""The inline survey in the chat widget on a phone: after the chat, the visitor sees the
CSAT question as buttons, the follow-up for a low score, and sends the answer once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect
from sqlalchemy import select

from rapport.core.db import Database
from rapport.feedback.delivery import FollowedConversation, delivery
from rapport.feedback.models import SurveyResponse
from rapport.feedback.service import feedback
from rapport.web.widget.demo import DEMO_SLUG
from tests.fixtures.browser import watch
from tests.fixtures.feedback import make_customer, make_survey
from tests.fixtures.identity import bearer, make_api_key, make_source, make_workspace
from tests.fixtures.server import LiveServer

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    """A page in its own context with a phone's viewport."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    yield page
    await context.close()


async def _chat_of(server: LiveServer, key: str) -> str:
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(key)) as client:
        [conversation] = (await client.get("/api/v1/conversations?channel=chat")).json()["items"]
        return str(conversation["id"])


async def _invite(database: Database, workspace_id: str, conversation_id: str) -> None:
    customer_id = await make_customer(database, workspace_id)
    made = await make_survey(database, workspace_id, channels=["chat"])
    async with database.session() as session:
        survey = await feedback.get_survey(session, workspace_id, made.id)
        followed = FollowedConversation(conversation_id, "chat", None, None)
        assert await delivery.send(session, workspace_id, survey, customer_id, followed)


async def test_the_visitor_answers_the_csat_question_in_the_widget_on_a_phone(
    phone: Page, live_server: LiveServer, database: Database
) -> None:
    workspace = await make_workspace(database, DEMO_SLUG)
    await make_source(database, workspace, "Demo website")
    key = await make_api_key(database, workspace)
    problems = await watch(phone)
    await phone.goto(f"{live_server.url}/demo/shop")
    await phone.get_by_role("button", name="Chat with us").click()
    chat = phone.get_by_role("dialog", name="Chat")
    await chat.get_by_label("Your message").fill("My parcel is late")
    await chat.get_by_role("button", name="Send", exact=True).last.click()
    await expect(chat.get_by_role("log")).not_to_contain_text("Sending…")
    await _invite(database, workspace.id, await _chat_of(live_server, key))
    await phone.reload()
    await phone.get_by_role("button", name="Chat with us").click()
    question = chat.get_by_role("group", name="How satisfied are you with our help?")
    await expect(question.get_by_role("radio")).to_have_count(5)
    await question.get_by_text("2 ★").click()
    await expect(question.get_by_role("radio", name="2 / 5")).to_be_checked()
    await question.get_by_label("What could we do better?").fill("Faster replies")
    assert await phone.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    await chat.get_by_role("button", name="Send feedback").click()
    await expect(chat).to_contain_text("Thank you for your feedback!")
    async with database.session() as session:
        [row] = (await session.execute(select(SurveyResponse))).scalars().all()
    assert (row.score, row.channel) == (2, "chat")
    assert await problems.all(phone) == []
