"""Probe: the Knowledge area's article list and search results fit a 390 px phone (the
tables scroll inside their card, the page never sideways)."""

from __future__ import annotations

from playwright.async_api import Page

from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.knowledge.demo import seed_demo
from tests.browser.test_phone_width import PHONE, _width, phone  # noqa: F401 (fixture)
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.server import LiveServer


async def test_the_knowledge_pages_fit_a_390_pixel_phone(
    phone: Page,  # noqa: F811
    live_server: LiveServer,
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    editor = await make_staff(database, workspace, Role.supervisor)
    async with database.session() as session:
        await seed_demo(session, workspace.id)
    problems = await watch(phone)
    await sign_in_page(phone, live_server.url, editor.email, editor.password, "/console")
    widths = {}
    for path in ["/console/knowledge", "/console/knowledge?q=delivery+time"]:
        widths[path] = await _width(phone, f"{live_server.url}{path}")
    assert {path: width for path, width in widths.items() if width > PHONE["width"]} == {}
    assert await problems.all(phone) == []
