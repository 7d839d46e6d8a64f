"""The workspace switcher moves a session only between the staff member's own workspaces."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role
from tests.fixtures.identity import make_staff, make_workspace
from tests.web.console import post_form, sign_in


async def test_switcher_moves_the_session_to_another_membership(
    client: httpx.AsyncClient, database: Database
) -> None:
    first = await make_workspace(database, "alpha-shop")
    second = await make_workspace(database, "beta-shop")
    account = await make_staff(database, first)
    await make_staff(database, second, Role.agent, email=account.email)
    await sign_in(client, account.email, account.password)
    response = await post_form(
        client, "/console", "/console/workspace", {"slug": "beta-shop", "next": "/console"}
    )
    assert (response.status_code, response.headers["location"]) == (303, "/console")
    home = await client.get("/console")
    assert '<p class="eyebrow">Beta-Shop</p>' in home.text
    assert '<option value="beta-shop" selected>Beta-Shop</option>' in home.text


async def test_switcher_answers_htmx_with_a_full_page_redirect(
    client: httpx.AsyncClient, database: Database
) -> None:
    first = await make_workspace(database, "alpha-shop")
    second = await make_workspace(database, "beta-shop")
    account = await make_staff(database, first)
    await make_staff(database, second, Role.agent, email=account.email)
    await sign_in(client, account.email, account.password)
    page = await client.get("/console/settings/profile")
    token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    response = await client.post(
        "/console/workspace",
        data={"slug": "beta-shop", "next": "/console/settings/profile"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/console/settings/profile"


async def test_switcher_refuses_a_workspace_you_are_not_in(
    client: httpx.AsyncClient, database: Database
) -> None:
    mine = await make_workspace(database, "mine-shop")
    await make_workspace(database, "theirs-shop")
    account = await make_staff(database, mine)
    await sign_in(client, account.email, account.password)
    response = await post_form(client, "/console", "/console/workspace", {"slug": "theirs-shop"})
    assert response.status_code == 404
    assert "You are not a member of that workspace." in response.text
    home = await client.get("/console")
    assert '<p class="eyebrow">Mine-Shop</p>' in home.text
