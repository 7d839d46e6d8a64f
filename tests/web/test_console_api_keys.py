"""API keys in the console: the secret is shown once, works on the API, and can be revoked."""

from __future__ import annotations

import re

import httpx

from rapport.core.db import Database
from rapport.identity.enums import ROLE_SCOPES, Role, Scope
from rapport.web.console.scopes import SCOPE_DESCRIPTIONS
from tests.fixtures.identity import bearer, make_staff, make_workspace
from tests.web.console import csrf_of, post_form, sign_in


async def create_key(client: httpx.AsyncClient, scopes: list[str]) -> httpx.Response:
    page = await client.get("/console/settings/api-keys")
    return await client.post(
        "/console/settings/api-keys",
        data={"name": "Order sync", "scopes": scopes, "csrf_token": csrf_of(page.text)},
    )


def secret_of(html: str) -> str:
    return html.split("data-secret>", 1)[1].split("<", 1)[0]


async def test_created_key_is_shown_once_and_works_on_the_api(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    await sign_in(client, account.email, account.password)
    response = await create_key(client, ["workspace:read", "staff:read"])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    secret = secret_of(response.text)
    me = await client.get("/api/v1/me", headers=bearer(secret))
    assert me.json()["workspace_id"] == workspace.id
    assert me.json()["scopes"] == ["staff:read", "workspace:read"]
    listing = await client.get("/console/settings/api-keys")
    assert secret not in listing.text
    assert f"<code>{secret[:10]}…</code>" in listing.text


async def test_key_without_scopes_is_refused_with_a_message(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    response = await create_key(client, [])
    assert response.status_code == 422
    message = "Choose at least one scope, or one of the presets."
    assert f'<div class="alert alert-error" role="alert">{message}</div>' in response.text


async def test_revoked_key_stops_working(client: httpx.AsyncClient, database: Database) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    created = await create_key(client, ["workspace:read"])
    secret = secret_of(created.text)
    key_id = created.text.split('<tr id="key-', 1)[1].split('"', 1)[0]
    revoked = await post_form(
        client, "/console/settings/api-keys", f"/console/settings/api-keys/{key_id}/revoke"
    )
    assert revoked.headers["location"] == "/console/settings/api-keys?notice=key-revoked"
    assert (await client.get("/api/v1/me", headers=bearer(secret))).status_code == 401


async def test_htmx_revoke_answers_with_the_updated_row(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    created = await create_key(client, ["workspace:read"])
    key_id = created.text.split('<tr id="key-', 1)[1].split('"', 1)[0]
    response = await client.post(
        f"/console/settings/api-keys/{key_id}/revoke",
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_of(created.text)},
    )
    assert response.status_code == 200
    assert response.text.startswith(f'\n<tr id="key-{key_id}">')
    assert '<span class="pill pill-red">Revoked</span>' in response.text


async def test_htmx_errors_go_to_the_flash_area(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    page = await client.get("/console/settings/api-keys")
    response = await client.post(
        "/console/settings/api-keys/no-such-key/revoke",
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_of(page.text)},
    )
    assert response.status_code == 404
    assert response.headers["hx-retarget"] == "#flash"
    assert response.text == (
        '<div class="alert alert-error" role="alert">No such API key in this workspace.</div>'
    )


async def _create_with_preset(client: httpx.AsyncClient, preset: str) -> httpx.Response:
    return await post_form(
        client,
        "/console/settings/api-keys",
        "/console/settings/api-keys",
        {"name": "Preset key", "preset": preset},
    )


async def test_the_read_only_preset_grants_every_read_scope(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    response = await _create_with_preset(client, "read-only")
    me = await client.get("/api/v1/me", headers=bearer(secret_of(response.text)))
    assert me.json()["scopes"] == sorted(scope for scope in Scope if scope.endswith(":read"))


async def test_the_ingestion_preset_grants_events_write_only(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    response = await _create_with_preset(client, "ingestion")
    me = await client.get("/api/v1/me", headers=bearer(secret_of(response.text)))
    assert me.json()["scopes"] == ["events:write"]


async def test_the_admin_preset_grants_what_the_creator_holds(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database), Role.admin)
    await sign_in(client, account.email, account.password)
    response = await _create_with_preset(client, "admin")
    me = await client.get("/api/v1/me", headers=bearer(secret_of(response.text)))
    assert me.json()["scopes"] == sorted(ROLE_SCOPES[Role.admin])


async def test_a_preset_wins_over_ticked_scopes(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    page = await client.get("/console/settings/api-keys")
    response = await client.post(
        "/console/settings/api-keys",
        data={
            "name": "Both",
            "preset": "ingestion",
            "scopes": ["staff:write"],
            "csrf_token": csrf_of(page.text),
        },
    )
    me = await client.get("/api/v1/me", headers=bearer(secret_of(response.text)))
    assert me.json()["scopes"] == ["events:write"]


async def test_an_unknown_preset_is_refused_with_a_message(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    response = await _create_with_preset(client, "superuser")
    assert response.status_code == 422
    assert "Choose one of the presets, or tick the scopes yourself." in response.text


async def test_the_form_describes_every_scope_and_offers_the_presets(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    page = await client.get("/console/settings/api-keys")
    described = re.findall(
        r'value="([a-z]+:[a-z]+)"> <span><code>\1</code><br><span class="muted">([^<]+)</span>',
        page.text,
    )
    presets = re.findall(r'name="preset" value="([a-z-]+)"', page.text)
    assert [scope for scope, _ in described] == [str(scope) for scope in Scope]
    assert dict(described)["audit:read"] == "Read the audit log."
    assert presets == ["custom", "read-only", "ingestion", "admin"]


def test_every_scope_has_a_description() -> None:
    assert set(SCOPE_DESCRIPTIONS) == set(Scope)
