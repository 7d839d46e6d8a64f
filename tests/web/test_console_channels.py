"""The channels settings tab: the SMS channel's Twilio account set from the console, its
webhook address shown to paste into Twilio, the auth token never shown."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.twilio import ACCOUNT_SID, AUTH_TOKEN, SHOP_NUMBER
from tests.web.console import post_form, sign_in

TAB = "/console/settings/channels"
FORM = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "sender": SHOP_NUMBER}


async def test_an_owner_sets_up_sms_and_sees_the_webhook_address(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    owner = await make_staff(database, workspace)
    await sign_in(client, owner.email, owner.password)

    before = await client.get(TAB)
    saved = await post_form(client, TAB, f"{TAB}/sms", FORM)
    after = await client.get(saved.headers["location"])

    assert "Not set up." in before.text
    assert (saved.status_code, saved.headers["location"]) == (303, f"{TAB}?notice=sms-saved")
    assert "SMS channel saved." in after.text
    assert "/v1/webhooks/twilio/" in after.text and f"<strong>{SHOP_NUMBER}</strong>" in after.text
    assert AUTH_TOKEN not in after.text


async def test_a_bad_account_sid_is_named_and_nothing_is_saved(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    owner = await make_staff(database, workspace)
    await sign_in(client, owner.email, owner.password)

    refused = await post_form(client, TAB, f"{TAB}/sms", {**FORM, "account_sid": "AC123"})

    assert refused.status_code == 422
    assert "Check the Account SID" in refused.text
    assert "Not set up." in (await client.get(TAB)).text


async def test_an_agent_sees_the_tab_but_cannot_change_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    agent = await make_staff(database, workspace, Role.agent)
    await sign_in(client, agent.email, agent.password)

    shown = await client.get(TAB)
    refused = await post_form(client, TAB, f"{TAB}/sms", FORM)

    assert shown.status_code == 200
    assert 'action="/console/settings/channels/sms"' not in shown.text
    assert refused.status_code == 403
