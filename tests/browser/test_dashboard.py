"""The CX dashboard in Chromium: every chart drawn without a console error, on a desktop
and on a 390 px phone, and each chart's CSV holding the numbers the page shows."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from rapport.cli.demo_history import seed_history
from rapport.config import Settings
from rapport.core.crypto import configure_keyring
from rapport.core.db import Database
from rapport.domains import load_tasks
from rapport.identity.models import Workspace
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.identity import StaffAccount, make_staff, make_workspace
from tests.fixtures.server import LiveServer

CHARTS = 9
# The numbers behind each chart as the page holds them: its table's labels and data-values.
TABLES = """
() => [...document.querySelectorAll("figure[data-chart]")].map((figure) => [
  figure.dataset.chart,
  [...figure.querySelectorAll("tbody tr")].map((row) => [
    row.querySelector("th").textContent,
    ...[...row.querySelectorAll("td")].map((cell) => cell.dataset.value),
  ]),
])
"""


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    """A page in its own context with a phone's viewport."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
async def wide(browser: Browser) -> AsyncIterator[Page]:
    """A page in its own context on a 1440 px wide screen."""
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    yield page
    await context.close()


async def _seeded(database: Database, settings: Settings) -> StaffAccount:
    """An owner of a workspace holding the demo history (six months of everything)."""
    configure_keyring(settings.secret_keys())
    load_tasks()
    workspace: Workspace = await make_workspace(database)
    await seed_history(database, workspace.id)
    return await make_staff(database, workspace)


async def _open_dashboard(page: Page, server: LiveServer, account: StaffAccount) -> None:
    await sign_in_page(page, server.url, account.email, account.password, "/console/metrics")
    await expect(page.locator("figure[data-drawn=true]")).to_have_count(CHARTS)


async def test_the_dashboard_draws_every_chart_on_a_wide_screen(
    wide: Page, live_server: LiveServer, database: Database, settings: Settings, tmp_path: Path
) -> None:
    account = await _seeded(database, settings)
    problems = await watch(wide)
    await _open_dashboard(wide, live_server, account)
    sizes = await wide.evaluate(
        "[...document.querySelectorAll('figure canvas')].map((c) => c.width > 0 && c.height > 0)"
    )
    assert sizes == [True] * CHARTS
    await expect(wide.locator("[data-tile]")).to_have_count(11)
    # The form as it comes, every "All ..." choice left (empty values): the same page again.
    await wide.get_by_role("button", name="Show").click()
    await expect(wide.locator("figure[data-drawn=true]")).to_have_count(CHARTS)
    assert "channel=&team=&agent=&survey=" in wide.url
    await wide.screenshot(path=tmp_path / "dashboard-1440.png", full_page=True)
    assert await problems.all(wide) == []


async def test_the_dashboard_fits_a_phone(
    phone: Page, live_server: LiveServer, database: Database, settings: Settings, tmp_path: Path
) -> None:
    account = await _seeded(database, settings)
    problems = await watch(phone)
    await _open_dashboard(phone, live_server, account)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
    await phone.screenshot(path=tmp_path / "dashboard-390.png", full_page=True)
    assert await problems.all(phone) == []


async def test_each_csv_export_matches_the_numbers_on_the_page(
    wide: Page, live_server: LiveServer, database: Database, settings: Settings
) -> None:
    account = await _seeded(database, settings)
    await _open_dashboard(wide, live_server, account)
    shown = await wide.evaluate(TABLES)
    assert [name for name, _rows in shown] == [
        "volume", "first-response", "resolution", "csat", "nps",
        "by-channel", "by-team", "by-agent", "nps-distribution",
    ]  # fmt: skip
    for name, rows in shown:
        link = wide.locator(f"figure[data-chart='{name}'] a", has_text="CSV")
        response = await wide.request.get(live_server.url + str(await link.get_attribute("href")))
        exported = list(csv.reader(io.StringIO(await response.text())))
        assert exported[1:] == rows, name
        assert len(rows) > 0, name
    summary = await wide.request.get(f"{live_server.url}/console/metrics/charts/summary")
    current = {row[0]: row[1] for row in csv.reader(io.StringIO(await summary.text()))}
    tiles = await wide.evaluate(
        "Object.fromEntries([...document.querySelectorAll('[data-tile]')]"
        ".map((tile) => [tile.dataset.tile, tile.dataset.value]))"
    )
    assert tiles == {key: current[key] for key in tiles}
