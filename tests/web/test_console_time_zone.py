"""The workspace's time zone: set in settings and the API, checked against the IANA database,
and every console time shown in it."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from rapport.core.db import Database
from rapport.customers.schemas import IdentitySignal, Observed
from rapport.customers.service import customers
from rapport.identity.enums import Scope
from rapport.identity.models import Workspace
from tests.fixtures.identity import bearer, make_api_key, make_staff, make_workspace
from tests.web.console import post_form, sign_in

SETTINGS = "/console/settings/workspace"


async def _seen(database: Database, workspace: Workspace, at: datetime) -> str:
    signal = IdentitySignal(
        identifiers=[Observed("user_id", "u-1")],
        at=at,
        channel="web",
        source="test",
        traits={"name": "Ada Lovelace"},
    )
    async with database.session() as session:
        customer_id = await customers.observe(session, workspace.id, signal)
    assert customer_id is not None
    return customer_id


async def _owner_signed_in(client: httpx.AsyncClient, database: Database) -> Workspace:
    workspace = await make_workspace(database)
    owner = await make_staff(database, workspace)
    await sign_in(client, owner.email, owner.password)
    return workspace


async def test_owner_sets_the_time_zone_and_times_follow_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await _owner_signed_in(client, database)
    customer_id = await _seen(database, workspace, datetime(2026, 2, 1, 9, 30, tzinfo=UTC))
    before = await client.get(f"/console/customers/{customer_id}")
    saved = await post_form(
        client, SETTINGS, SETTINGS, {"name": workspace.name, "time_zone": "Europe/Berlin"}
    )
    after = await client.get(f"/console/customers/{customer_id}")
    settings = await client.get(SETTINGS)
    assert saved.status_code == 303
    assert "<dd>01 Feb 2026, 09:30 UTC</dd>" in before.text
    assert "<dd>01 Feb 2026, 10:30 CET</dd>" in after.text
    assert '<option value="Europe/Berlin" selected>' in settings.text


async def test_summer_time_is_shown_as_such(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await _owner_signed_in(client, database)
    await post_form(client, SETTINGS, SETTINGS, {"name": "Shop", "time_zone": "Europe/Berlin"})
    await _seen(database, workspace, datetime(2026, 7, 1, 9, 30, tzinfo=UTC))
    listed = await client.get("/console/customers")
    assert "01 Jul 2026, 11:30 CEST" in listed.text


async def test_an_unknown_time_zone_is_refused_on_the_page(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _owner_signed_in(client, database)
    response = await post_form(
        client, SETTINGS, SETTINGS, {"name": "Shop", "time_zone": "Mars/Olympus_Mons"}
    )
    settings = await client.get(SETTINGS)
    assert response.status_code == 422
    assert "not a known time zone" in response.text
    assert '<option value="UTC" selected>' in settings.text


async def test_the_api_sets_and_validates_the_time_zone(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    headers = bearer(await make_api_key(database, workspace, [Scope.workspace_write]))
    refused = await client.patch("/api/v1/workspace", json={"time_zone": "CET+1"}, headers=headers)
    saved = await client.patch(
        "/api/v1/workspace", json={"time_zone": "America/New_York"}, headers=headers
    )
    assert (refused.status_code, refused.json()["error"]) == (422, "ValidationError")
    assert (saved.status_code, saved.json()["time_zone"]) == (200, "America/New_York")


async def test_seen_since_starts_at_midnight_in_the_workspace_zone(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await _owner_signed_in(client, database)
    await post_form(client, SETTINGS, SETTINGS, {"name": "Shop", "time_zone": "Europe/Berlin"})
    # 23:30 UTC on 1 March is 00:30 on 2 March in Berlin.
    await _seen(database, workspace, datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    berlin = await client.get("/console/customers?seen_since=2026-03-02")
    assert "<h2 data-total>1 customer</h2>" in berlin.text
