"""Settings > Channels connects the IMAP mailbox from the console: the password is stored
sealed and never shown, bad values are named, agents only see it."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role
from tests.fixtures.identity import make_staff, make_workspace
from tests.web.console import post_form, sign_in

TAB = "/console/settings/channels"
FORM = {
    "host": "imap.example.com", "security": "imaps", "port": "", "username": "support@shop.example",
    "password": "mailbox-secret-123", "folder": "INBOX", "poll_seconds": "120", "enabled": "1",
}  # fmt: skip


async def test_an_owner_connects_a_mailbox_and_the_password_is_never_shown(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    owner = await make_staff(database, workspace)
    await sign_in(client, owner.email, owner.password)

    before = await client.get(TAB)
    saved = await post_form(client, TAB, f"{TAB}/imap", FORM)
    after = await client.get(TAB)

    assert "Not connected." in before.text
    assert (saved.status_code, saved.headers["location"]) == (303, TAB)
    assert "<code>imap.example.com:993</code>" in after.text
    assert "every 120 seconds" in after.text
    assert FORM["password"] not in after.text
    # Saved again without the password: the stored one is kept.
    kept = await post_form(client, TAB, f"{TAB}/imap", {**FORM, "password": "", "enabled": ""})
    assert kept.status_code == 303
    assert "(paused)" in (await client.get(TAB)).text
    removed = await post_form(client, TAB, f"{TAB}/imap/remove", {})
    assert removed.status_code == 303
    assert "Not connected." in (await client.get(TAB)).text


async def test_bad_values_are_named_and_nothing_is_saved(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    owner = await make_staff(database, workspace)
    await sign_in(client, owner.email, owner.password)

    plain = await post_form(client, TAB, f"{TAB}/imap", {**FORM, "security": "plain"})
    interval = await post_form(client, TAB, f"{TAB}/imap", {**FORM, "poll_seconds": "2"})
    no_password = await post_form(client, TAB, f"{TAB}/imap", {**FORM, "password": ""})

    assert plain.status_code == 422
    assert "only allowed to a server on localhost" in plain.text
    assert (interval.status_code, "Check the check interval" in interval.text) == (422, True)
    assert (no_password.status_code, "password" in no_password.text) == (422, True)
    assert "Not connected." in (await client.get(TAB)).text


async def test_an_agent_sees_the_mailbox_but_cannot_change_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    agent = await make_staff(database, workspace, Role.agent)
    await sign_in(client, agent.email, agent.password)

    shown = await client.get(TAB)
    refused = await post_form(client, TAB, f"{TAB}/imap", FORM)

    assert shown.status_code == 200
    assert 'action="/console/settings/channels/imap"' not in shown.text
    assert refused.status_code == 403
