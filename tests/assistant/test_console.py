"""The console's assistant page: everyone who reads conversations sees the settings,
supervisors change them."""

from __future__ import annotations

import httpx

from rapport.assistant.service import assistant
from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.support.enums import Channel
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in


async def test_an_agent_sees_the_settings_without_a_form(
    client: httpx.AsyncClient, database: Database
) -> None:
    agent = await make_staff(database, await make_workspace(database), Role.agent)
    signed_in = await sign_in(database, agent)
    response = await client.get("/console/assistant", headers=session_headers(signed_in.token))
    assert response.status_code == 200
    assert 'id="assistant-chat"' in response.text
    assert 'action="/console/assistant/chat"' not in response.text


async def test_a_supervisor_turns_it_on_for_chat(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    owner = await make_staff(database, workspace, Role.owner)
    signed_in = await sign_in(database, owner)
    form = {"enabled": "on", "name": "Ada", "confidence_threshold": "0.7", "vip_trait": "vip"}
    response = await client.post(
        "/console/assistant/chat", data=form, headers=session_headers(signed_in.token)
    )
    assert response.status_code == 303
    async with database.session() as session:
        stored = await assistant.settings(session, workspace.id, Channel.chat)
    assert (stored.enabled, stored.name, stored.confidence_threshold, stored.vip_trait) == (
        True, "Ada", 0.7, "vip",
    )  # fmt: skip


async def test_a_bad_threshold_is_a_clear_error(
    client: httpx.AsyncClient, database: Database
) -> None:
    owner = await make_staff(database, await make_workspace(database), Role.owner)
    signed_in = await sign_in(database, owner)
    response = await client.post(
        "/console/assistant/chat", data={"confidence_threshold": "7"},
        headers=session_headers(signed_in.token),
    )  # fmt: skip
    assert response.status_code == 422
    assert "Check the confidence threshold." in response.text


async def test_the_report_is_for_those_who_see_the_whole_workspace(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    agent = await make_staff(database, workspace, Role.agent)
    refused = await client.get(
        "/console/assistant-report", headers=session_headers((await sign_in(database, agent)).token)
    )
    assert refused.status_code == 403
    assert "The assistant&#39;s report covers the whole workspace" in refused.text
    owner = await make_staff(database, workspace, Role.owner)
    shown = await client.get(
        "/console/assistant-report?days=7&channel=chat",
        headers=session_headers((await sign_in(database, owner)).token),
    )
    assert shown.status_code == 200
    assert '<option value="7" selected>' in shown.text
    assert '<option value="chat" selected>' in shown.text
    assert "No hand-offs in this window." in shown.text


async def test_a_bad_report_filter_is_a_clear_error(
    client: httpx.AsyncClient, database: Database
) -> None:
    owner = await make_staff(database, await make_workspace(database), Role.owner)
    headers = session_headers((await sign_in(database, owner)).token)
    response = await client.get("/console/assistant-report?channel=fax", headers=headers)
    assert response.status_code == 422
    odd = await client.get("/console/assistant-report?days=12345", headers=headers)
    assert odd.status_code == 422
    unknown = await client.get("/console/assistant-report?days=12", headers=headers)
    assert (unknown.status_code, '<option value="30" selected>' in unknown.text) == (200, True)
