"""The assistant's labels in Chromium at 390 px: an agent sees a conversation's intent,
sentiment and language beside it and on its message, and filters the inbox by sentiment with
the form as a browser sends it (its "Any ..." choices empty)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from rapport.core.db import Database
from rapport.identity.enums import Role
from tests.browser.test_phone_width import PHONE, phone  # noqa: F401 (fixture)
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.server import LiveServer
from tests.fixtures.support_console import (
    ANGRY,
    CALM,
    conversation_url,
    label_latest,
    make_desk,
    open_conversation,
)


async def test_an_agent_sees_the_labels_and_filters_by_sentiment_on_a_phone(
    phone: Page,  # noqa: F811
    live_server: LiveServer,
    database: Database,
    tmp_path: Path,
) -> None:
    desk = await make_desk(database, Role.agent)
    angry = await open_conversation(
        database, desk.workspace.id, "Annulez ma commande tout de suite !"
    )
    calm = await open_conversation(database, desk.workspace.id, "How long does shipping take?")
    await label_latest(database, desk.workspace.id, angry, ANGRY)
    await label_latest(database, desk.workspace.id, calm, CALM)
    problems = await watch(phone)
    await sign_in_page(
        phone, live_server.url, desk.agent.email, desk.agent.password, conversation_url(angry)
    )
    await expect(phone.locator("[data-intent]")).to_contain_text("Cancel order · 92 % sure")
    await expect(phone.locator("[data-sentiment]")).to_have_text("Negative -0.71")
    await expect(phone.locator("[data-detected-language]")).to_have_text("fr")
    await expect(phone.locator(".message-customer [data-labels]")).to_contain_text("Cancel order")
    await phone.screenshot(path=tmp_path / "conversation-labels.png", full_page=True)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await phone.goto(f"{live_server.url}/console/inbox")
    await phone.get_by_label("Status").select_option("any")
    await phone.get_by_label("Sentiment").select_option("negative")
    await phone.get_by_role("button", name="Apply").click()  # priority and channel: "Any"
    rows = phone.locator(".conversation-item")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-conversation-id", angry)
    await expect(rows.first.locator(".pill.sentiment")).to_have_text("Negative")
    await phone.get_by_label("Sentiment").select_option("")
    await phone.get_by_role("button", name="Apply").click()
    await expect(rows).to_have_count(2)
    await phone.screenshot(path=tmp_path / "inbox-sentiment.png", full_page=True)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await problems.all(phone) == []
