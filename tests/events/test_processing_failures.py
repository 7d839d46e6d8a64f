"""Calls whose processing fails are kept unprocessed with their failure, listed, re-processed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from rapport.config import Settings
from rapport.core.db import Database
from rapport.customers import resolution
from rapport.customers.models import Customer
from rapport.events.failures import FailureRead, processing_failures
from rapport.events.models import Event
from rapport.events.processing import reprocess_failures
from rapport.identity.enums import Role
from tests.events.test_cli import rapport
from tests.events.test_processing import outcome, store, view
from tests.fixtures.customers import Shop, make_shop
from tests.fixtures.events import identify, process_all
from tests.fixtures.identity import make_staff
from tests.fixtures.sessions import session_headers, sign_in


async def failures_of(shop: Shop) -> list[FailureRead]:
    """Return the shop's recorded failures, oldest first."""
    async with shop.database.session() as session:
        return await processing_failures.oldest(session, shop.workspace.id, limit=100)


async def source_of(database: Database, message_id: str) -> str | None:
    """Return the source a stored call came from."""
    async with database.session() as session:
        found = await session.execute(select(Event.source_id).where(Event.message_id == message_id))
    return found.scalar_one()


def break_traits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every call carrying the trait plan=poison fail while its traits are recorded."""
    real_apply = resolution.apply_traits

    def apply_or_fail(
        customer: Customer, traits: dict[str, Any], source: str, at: datetime
    ) -> bool:
        if traits.get("plan") == "poison":
            raise RuntimeError("simulated defect")
        return real_apply(customer, traits, source, at)

    monkeypatch.setattr(resolution, "apply_traits", apply_or_fail)


async def test_a_failing_call_is_recorded_with_its_error_place_and_source(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_traits(monkeypatch)
    shop = await make_shop(client, database)
    await store(shop, identify(userId="u-1", traits={"plan": "poison"}, messageId="bad"))
    await process_all(database)
    [failure] = await failures_of(shop)
    source_id = await source_of(database, "bad")
    assert (failure.error, failure.attempts, failure.source_id) == ("RuntimeError", 1, source_id)
    assert failure.location.startswith("rapport/customers/resolution.py:")
    assert failure.location.endswith(" in observe")
    assert await outcome(database, "bad") == (None, False)
    async with database.session() as session:
        per_source = await processing_failures.per_source(session, shop.workspace.id)
    assert [(row.source_id, row.calls) for row in per_source] == [(source_id, 1)]


async def test_reprocessing_while_still_broken_counts_another_attempt(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_traits(monkeypatch)
    shop = await make_shop(client, database)
    await store(shop, identify(userId="u-2", traits={"plan": "poison"}, messageId="bad"))
    await process_all(database)
    assert await reprocess_failures(database, shop.workspace.id) == (0, 1)
    assert [(f.error, f.attempts) for f in await failures_of(shop)] == [("RuntimeError", 2)]
    assert await outcome(database, "bad") == (None, False)


async def test_reprocessing_after_the_fix_processes_the_call_and_forgets_its_failure(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_traits(monkeypatch)
    shop = await make_shop(client, database)
    await store(
        shop,
        identify(userId="u-3", traits={"plan": "poison"}, messageId="bad"),
        view("fine", 1, messageId="good"),
    )
    await process_all(database)
    monkeypatch.undo()
    assert await reprocess_failures(database, shop.workspace.id) == (1, 0)
    profile = await shop.profile("u-3")
    assert profile.traits["plan"].value == "poison"
    assert await outcome(database, "bad") == (profile.id, True)
    assert await failures_of(shop) == []


async def test_the_cli_lists_failures_and_reprocesses_them_after_a_fix(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    shop = await make_shop(client, database)
    await store(shop, view("v-1", 1, messageId="unreadable"))
    async with database.session() as session:
        stored = await session.execute(select(Event).where(Event.message_id == "unreadable"))
        event = stored.scalar_one()
        payload = event.payload
        event.payload = b"tampered"
    await process_all(database)
    [line] = rapport(settings, "events", "failures", "--workspace", shop.workspace.slug)
    assert line.split()[:4] == [event.id, event.source_id, "DecryptionError", "1"]
    async with database.session() as session:
        await session.execute(update(Event).where(Event.id == event.id).values(payload=payload))
    assert rapport(settings, "events", "reprocess", "--workspace", shop.workspace.slug) == [
        "processed=1 failed=0"
    ]
    assert await outcome(database, "unreadable") == (await shop.profile_of_anonymous("v-1"), True)
    assert rapport(settings, "events", "failures", "--workspace", shop.workspace.slug) == []


async def test_the_sources_page_shows_each_sources_failed_calls(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_traits(monkeypatch)
    shop = await make_shop(client, database)
    poison = {"plan": "poison"}
    await store(
        shop,
        identify(userId="u-4", traits=poison, messageId="bad-1"),
        identify(userId="u-5", traits=poison, messageId="bad-2"),
    )
    await process_all(database)
    account = await make_staff(database, shop.workspace, Role.admin)
    headers = session_headers((await sign_in(database, account)).token)
    page = await client.get("/console/settings/sources", headers=headers)
    assert page.status_code == 200
    section = page.text.split('id="processing-failures"', 1)[1].split("</section>", 1)[0]
    row = section.split(f'data-failures-source="{await source_of(database, "bad-1")}"', 1)[1]
    assert row.split("</tr>", 1)[0].count('<span class="pill pill-red">2</span>') == 1
