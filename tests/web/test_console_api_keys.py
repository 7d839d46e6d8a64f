"""API keys in the console: the secret is shown once, works on the API, and can be revoked."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
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
    assert "Check the scopes field: List should have at least 1 item" in response.text


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
