"""Console settings: profile and password, team, sources, workspace security, audit log."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role
from tests.fixtures.identity import console_sign_in, make_source, make_staff, make_workspace
from tests.web.console import post_form, sign_in

NEW_PASSWORD = "a much longer brand new passphrase 77"


async def test_password_change_keeps_this_session_and_ends_others(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    await sign_in(other_client, account.email, account.password)
    response = await post_form(
        client,
        "/console/settings/profile",
        "/console/settings/password",
        {"current_password": account.password, "new_password": NEW_PASSWORD},
    )
    assert response.headers["location"] == "/console/settings/profile?notice=password-changed"
    assert (await client.get("/console")).status_code == 200
    assert (await other_client.get("/console")).status_code == 303
    client.cookies.clear()
    assert (await console_sign_in(client, account.email, NEW_PASSWORD)).status_code == 303


async def test_password_change_with_wrong_current_password_shows_the_error(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    response = await post_form(
        client,
        "/console/settings/profile",
        "/console/settings/password",
        {"current_password": "not my password at all", "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 401
    assert '<div class="alert alert-error" role="alert">Invalid email or password.</div>' in (
        response.text
    )
    assert "<h2>Password</h2>" in response.text


async def test_invite_with_a_bad_email_shows_a_validation_message(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    response = await post_form(
        client,
        "/console/settings/team",
        "/console/settings/team",
        {"email": "not-an-email", "role": "agent"},
    )
    assert response.status_code == 422
    assert "Check the email field: value is not a valid email address" in response.text


async def test_role_change_and_removal(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    agent = await make_staff(database, workspace, Role.agent)
    await sign_in(client, account.email, account.password)
    path = f"/console/settings/team/{agent.user.id}"
    changed = await post_form(client, "/console/settings/team", f"{path}/role", {"role": "admin"})
    assert changed.headers["location"] == "/console/settings/team?notice=role-changed"
    team = await client.get("/console/settings/team")
    assert '<option value="admin" selected>admin</option>' in team.text
    removed = await post_form(client, "/console/settings/team", f"{path}/remove")
    assert removed.headers["location"] == "/console/settings/team?notice=staff-removed"
    assert agent.email not in (await client.get("/console/settings/team")).text


async def test_removing_the_last_owner_is_refused_on_the_page(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    owner = await make_staff(database, workspace)
    admin = await make_staff(database, workspace, Role.admin)
    await sign_in(client, admin.email, admin.password)
    response = await post_form(
        client, "/console/settings/team", f"/console/settings/team/{owner.user.id}/remove"
    )
    assert response.status_code == 403
    assert "Your role cannot grant or change the owner role." in response.text


async def test_agent_cannot_open_the_team_or_key_settings(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database, "calm-shop")
    agent = await make_staff(database, workspace, Role.agent)
    await sign_in(client, agent.email, agent.password)
    for path in ("/console/settings/api-keys", "/console/settings/audit"):
        response = await client.get(path)
        assert response.status_code == 403
        assert "Your role in Calm-Shop cannot do this." in response.text
    profile = await client.get("/console/settings/profile")
    assert 'href="/console/settings/api-keys"' not in profile.text


async def test_source_created_in_settings_lists_its_write_key(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    existing = await make_source(database, workspace, "Store tills")
    await sign_in(client, account.email, account.password)
    response = await post_form(
        client, "/console/settings/sources", "/console/settings/sources", {"name": "Web shop"}
    )
    assert response.headers["location"] == "/console/settings/sources?notice=source-created"
    page = await client.get(response.headers["location"])
    assert "Source created. Use its write key to send events." in page.text
    assert (
        '<td>Web shop</td><td class="nowrap" data-copy-scope><code data-write-key>wk_' in page.text
    )
    assert f"<code data-write-key>{existing.write_key}</code>" in page.text


async def test_audit_log_lists_sign_ins_by_name(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    page = await client.get("/console/settings/audit")
    assert page.status_code == 200
    assert "<td>Owner Person</td>\n        <td><code>staff.signed_in</code></td>" in page.text
