"""The assistant's report in Chromium, on the demo's history: reached from the assistant
page, its chart drawn, its tiles and tables holding the report's numbers, an intent's
conversations one click away; and the page fits a 390 px phone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.async_api import Page, expect

from rapport.analytics.assistant_report import assistant_report
from rapport.analytics.schemas import AssistantReport
from rapport.config import Settings
from rapport.core.clock import utcnow
from rapport.core.db import Database
from tests.browser.test_dashboard import _seeded, phone, wide  # noqa: F401 (fixtures)
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.server import LiveServer

ROWS = """
(selector) => [...document.querySelectorAll(selector + " tbody tr")].map(
  (row) => [...row.querySelectorAll("td")].map((cell) => cell.textContent.trim()))
"""


async def _report(database: Database, workspace_id: str) -> AssistantReport:
    """The last 30 days up to today (the demo's workspace keeps days in UTC)."""
    today = utcnow().date()
    async with database.session() as session:
        return await assistant_report(
            session, workspace_id, first_day=today - timedelta(days=29),
            end_day=today + timedelta(days=1),
        )  # fmt: skip


async def test_the_report_shows_what_the_assistant_did(
    wide: Page,  # noqa: F811
    live_server: LiveServer,
    database: Database,
    settings: Settings,
    tmp_path: Path,
) -> None:
    account = await _seeded(database, settings)
    expected = await _report(database, account.workspace.id)
    assert expected.handed_off > 0 and expected.resolved_alone > 0  # the demo has both
    problems = await watch(wide)
    await sign_in_page(wide, live_server.url, account.email, account.password, "/console/assistant")
    await wide.get_by_role("link", name="Its report").click()
    await expect(wide.locator("figure[data-drawn=true]")).to_have_count(1)
    await wide.get_by_label("Period").select_option(label="Last 90 days")
    await wide.get_by_role("button", name="Show").click()  # with "Every channel": no filter
    await expect(wide.locator("[data-window]")).to_contain_text(
        f"{utcnow().date() - timedelta(days=89)} to"
    )
    await wide.get_by_label("Period").select_option(label="Last 30 days")
    await wide.get_by_role("button", name="Show").click()
    await expect(wide.locator("figure[data-drawn=true]")).to_have_count(1)
    tiles = await wide.evaluate(
        "Object.fromEntries([...document.querySelectorAll('[data-tile]')]"
        ".map((tile) => [tile.dataset.tile, tile.querySelector('.figure').textContent]))"
    )
    assert tiles == {
        "held": str(expected.held),
        "resolved_alone": str(expected.resolved_alone),
        "handed_off": str(expected.handed_off),
        "containment_rate": f"{expected.containment_rate:.1f}%",
    }
    reasons = await wide.evaluate(ROWS, "[data-reasons]")
    assert [int(row[1]) for row in reasons] == [item.handoffs for item in expected.reasons]
    intents = await wide.evaluate(ROWS, "[data-intents]")
    assert [(int(row[1]), int(row[2])) for row in intents] == [
        (item.handoffs, item.unanswered) for item in expected.intents
    ]
    assert len(intents) == len(expected.intents) > 0
    first = expected.intents[0]
    assert first.unanswered > 0  # the demo's payment questions have no answer
    await wide.locator(f"tr[data-intent='{first.intent}'] a").click()
    await expect(wide.locator("[data-intent-filter]")).to_contain_text(
        "Only conversations whose intent is"
    )
    await wide.get_by_role("link", name="Show every intent").click()
    await expect(wide.locator("[data-intent-filter]")).to_have_count(0)
    assert "intent=" not in wide.url and "status=any" in wide.url
    await wide.screenshot(path=tmp_path / "assistant-report.png", full_page=True)
    assert await problems.all(wide) == []


async def test_the_report_fits_a_phone(
    phone: Page,  # noqa: F811
    live_server: LiveServer,
    database: Database,
    settings: Settings,
    tmp_path: Path,
) -> None:
    account = await _seeded(database, settings)
    problems = await watch(phone)
    await sign_in_page(
        phone, live_server.url, account.email, account.password, "/console/assistant-report"
    )
    await expect(phone.locator("figure[data-drawn=true]")).to_have_count(1)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
    await phone.screenshot(path=tmp_path / "assistant-report-390.png", full_page=True)
    assert await problems.all(phone) == []
