"""Console sources tab: a shop's webhook signing secret, pasted or made anew (shown once)."""

from __future__ import annotations

import re

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.identity.keys import sources
from rapport.identity.models import Source
from tests.fixtures.events import track, write_key_auth
from tests.fixtures.identity import make_source, make_staff, make_workspace
from tests.web.console import post_form, sign_in

SHOPS_SECRET = "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"


async def _secret(database: Database, source: Source) -> str | None:
    async with database.session() as session:
        return await sources.webhook_secret(session, source.workspace_id, source.id)


async def test_a_new_webhook_secret_is_shown_once_and_replaces_the_old(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    source = await make_source(database, workspace, "Shopify")
    old = await _secret(database, source)
    await sign_in(client, account.email, account.password)
    action = f"/console/settings/sources/{source.id}/webhook-secret"
    response = await post_form(client, "/console/settings/sources", action, {"action": "rotate"})
    shown = re.findall(r"<code class=\"secret\" data-secret>([^<]+)</code>", response.text)
    assert (response.status_code, response.headers["cache-control"]) == (200, "no-store")
    assert shown == [await _secret(database, source)]
    assert shown[0] != old
    again = await client.get("/console/settings/sources")
    assert shown[0] not in again.text


async def test_the_shops_secret_is_stored_without_being_shown(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    source = await make_source(database, workspace, "Shopify")
    await sign_in(client, account.email, account.password)
    action = f"/console/settings/sources/{source.id}/webhook-secret"
    response = await post_form(
        client, "/console/settings/sources", action, {"action": "set", "secret": SHOPS_SECRET}
    )
    assert response.headers["location"] == "/console/settings/sources?notice=webhook-secret-stored"
    page = await client.get(response.headers["location"])
    assert "Webhook secret stored." in page.text
    assert SHOPS_SECRET not in page.text
    assert await _secret(database, source) == SHOPS_SECRET


async def test_a_too_short_secret_is_refused_on_the_tab(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    source = await make_source(database, workspace, "Shopify")
    before = await _secret(database, source)
    await sign_in(client, account.email, account.password)
    action = f"/console/settings/sources/{source.id}/webhook-secret"
    response = await post_form(
        client, "/console/settings/sources", action, {"action": "set", "secret": "short"}
    )
    assert response.status_code == 422
    assert "A webhook secret is 16-200 printable characters without spaces." in response.text
    assert await _secret(database, source) == before


async def test_a_supervisor_cannot_change_the_secret(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    supervisor = await make_staff(database, workspace, Role.supervisor)
    source = await make_source(database, workspace, "Shopify")
    before = await _secret(database, source)
    await sign_in(client, supervisor.email, supervisor.password)
    action = f"/console/settings/sources/{source.id}/webhook-secret"
    response = await post_form(client, "/console/settings/sources", action, {"action": "rotate"})
    assert response.status_code == 403
    assert await _secret(database, source) == before


async def test_another_workspaces_source_is_not_found(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    theirs = await make_source(database, await make_workspace(database), "Their shop")
    before = await _secret(database, theirs)
    await sign_in(client, account.email, account.password)
    action = f"/console/settings/sources/{theirs.id}/webhook-secret"
    response = await post_form(client, "/console/settings/sources", action, {"action": "rotate"})
    assert response.status_code == 404
    assert await _secret(database, theirs) == before


async def test_an_unknown_action_changes_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    source = await make_source(database, workspace, "Shopify")
    before = await _secret(database, source)
    await sign_in(client, account.email, account.password)
    action = f"/console/settings/sources/{source.id}/webhook-secret"
    for form in ({}, {"action": "rotat"}):
        response = await post_form(client, "/console/settings/sources", action, form)
        assert response.status_code == 422
    assert await _secret(database, source) == before


async def test_each_source_shows_its_events_today_last_event_and_a_setup_snippet(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace, Role.supervisor)
    busy = await make_source(database, workspace, "Web")
    quiet = await make_source(database, workspace, "Store")
    response = await client.post(
        "/v1/batch",
        json={"batch": [track("Viewed"), track("Viewed")]},
        headers=write_key_auth(busy.write_key),
    )
    assert response.status_code == 200
    await sign_in(client, account.email, account.password)
    page = await client.get("/console/settings/sources")
    found = re.findall(
        r'<tr data-source-row="(\w+)">.*?<td data-events-today>(\d+)</td>'
        r'<td class="nowrap" data-last-event>([^<]+)</td>',
        page.text,
    )
    rows = {source_id: (count, last) for source_id, count, last in found}
    assert rows.keys() == {busy.id, quiet.id}
    assert rows[quiet.id] == ("0", "Never")
    assert rows[busy.id][0] == "2"
    assert re.fullmatch(r"\d\d \w\w\w \d{4}, \d\d:\d\d UTC", rows[busy.id][1])
    assert f"curl http://127.0.0.1:8000/v1/track -u '{busy.write_key}:'" in page.text
    assert "Webhook secret set" not in page.text
