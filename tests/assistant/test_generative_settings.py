"""The generative mode's settings: per workspace, administrators only, the API key sealed at
rest and never shown, the endpoint's address checked."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from rapport.assistant.llm import endpoint_policy
from rapport.assistant.models import GenerativeSettings
from rapport.core.db import Database
from rapport.identity.enums import Role, Scope
from rapport.identity.models import AuditEvent
from tests.fixtures.identity import bearer, make_api_key, make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in

API_KEY = "sk-live-9f8e7d6c5b4a-SECRET"
URL = "/api/v1/assistant-settings/generative"
BODY = {
    "enabled": True, "base_url": "https://llm.example.com/v1", "model": "gpt-4o-mini",
    "api_key": API_KEY, "timeout_seconds": 6,
}  # fmt: skip


@pytest.fixture
def private_allowed() -> Iterator[None]:
    endpoint_policy.configure(allow_private=True)
    yield
    endpoint_policy.configure(allow_private=None)


@pytest.fixture
def private_refused() -> Iterator[None]:
    endpoint_policy.configure(allow_private=False)
    yield
    endpoint_policy.configure(allow_private=None)


async def test_the_key_is_sealed_and_never_shown(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    key = bearer(await make_api_key(database, workspace))
    saved = await client.put(URL, json=BODY, headers=key)
    assert saved.status_code == 200, saved.text
    read = await client.get(URL, headers=key)
    listed = await client.get("/api/v1/assistant-settings", headers=key)
    for response in (saved, read, listed):
        assert API_KEY not in response.text
    assert read.json() == {
        "enabled": True, "base_url": "https://llm.example.com/v1", "model": "gpt-4o-mini",
        "api_key_set": True, "timeout_seconds": 6.0, "updated_at": read.json()["updated_at"],
    }  # fmt: skip
    async with database.session() as session:
        row = (await session.execute(select(GenerativeSettings))).scalar_one()
        audit = (
            await session.execute(
                select(AuditEvent).where(AuditEvent.action == "assistant.generative_changed")
            )
        ).scalar_one()
    assert row.api_key is not None and API_KEY.encode() not in row.api_key
    assert API_KEY not in repr(audit.details)
    assert audit.details == {
        "enabled": True, "host": "llm.example.com", "model": "gpt-4o-mini",
        "api_key_changed": True,
    }  # fmt: skip


async def test_an_omitted_key_is_kept_and_a_cleared_one_forgotten(
    client: httpx.AsyncClient, database: Database
) -> None:
    key = bearer(await make_api_key(database, await make_workspace(database)))
    await client.put(URL, json=BODY, headers=key)
    without = {name: value for name, value in BODY.items() if name != "api_key"}
    kept = await client.put(URL, json={**without, "model": "other"}, headers=key)
    assert (kept.json()["api_key_set"], kept.json()["model"]) == (True, "other")
    cleared = await client.put(URL, json={**without, "clear_api_key": True}, headers=key)
    assert cleared.json()["api_key_set"] is False


async def test_settings_are_per_workspace(client: httpx.AsyncClient, database: Database) -> None:
    mine = bearer(await make_api_key(database, await make_workspace(database)))
    theirs = bearer(await make_api_key(database, await make_workspace(database)))
    await client.put(URL, json=BODY, headers=mine)
    other = (await client.get(URL, headers=theirs)).json()
    assert (other["enabled"], other["base_url"], other["api_key_set"]) == (False, "", False)


async def test_only_administrators_change_it(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    supervisor_key = await make_api_key(
        database, workspace, [Scope.conversations_read, Scope.conversations_assign]
    )
    refused = await client.put(URL, json=BODY, headers=bearer(supervisor_key))
    assert (refused.status_code, refused.json()["error"]) == (403, "MissingScope")
    assert (await client.get(URL, headers=bearer(supervisor_key))).status_code == 200
    admin_key = await make_api_key(database, workspace, [Scope.workspace_write])
    assert (await client.put(URL, json=BODY, headers=bearer(admin_key))).status_code == 200
    assert (await client.get(URL)).status_code == 401


@pytest.mark.parametrize(
    ("base_url", "detail"),
    [
        ("http://127.0.0.1:11434/v1", "RAPPORT_ASSISTANT_ALLOW_PRIVATE_ENDPOINTS"),
        ("http://localhost:11434/v1", "RAPPORT_ASSISTANT_ALLOW_PRIVATE_ENDPOINTS"),
        ("https://10.0.0.7/v1", "RAPPORT_ASSISTANT_ALLOW_PRIVATE_ENDPOINTS"),
        ("http://llm.example.com/v1", "HTTPS"),
        ("https://169.254.169.254/latest", "never"),
        ("https://user:pw@llm.example.com/v1", "not in the URL"),
        ("ftp://llm.example.com/v1", "https://host/path"),
        ("https://llm.example.com/v1?key=1", "no query"),
    ],
)
async def test_endpoints_that_are_refused(
    client: httpx.AsyncClient, database: Database, private_refused: None,
    base_url: str, detail: str,
) -> None:  # fmt: skip
    key = bearer(await make_api_key(database, await make_workspace(database)))
    response = await client.put(URL, json={**BODY, "base_url": base_url}, headers=key)
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"]


async def test_a_local_model_server_when_the_operator_allows_it(
    client: httpx.AsyncClient, database: Database, private_allowed: None
) -> None:
    key = bearer(await make_api_key(database, await make_workspace(database)))
    body = {**BODY, "base_url": "http://127.0.0.1:11434/v1", "api_key": None}
    response = await client.put(URL, json=body, headers=key)
    assert response.status_code == 200, response.text
    link_local = {**body, "base_url": "http://169.254.169.254/v1"}
    assert (await client.put(URL, json=link_local, headers=key)).status_code == 422


@pytest.mark.parametrize(
    "change",
    [
        {"timeout_seconds": 0.1},
        {"timeout_seconds": 60},
        {"model": ""},
        {"model": "<script>"},
        {"base_url": ""},
        {"api_key": "has spaces in it"},
        {"api_key": "x" * 501},
        {"enabled": "maybe"},
    ],
)
async def test_bad_settings_are_422(
    client: httpx.AsyncClient, database: Database, change: dict[str, object]
) -> None:
    key = bearer(await make_api_key(database, await make_workspace(database)))
    response = await client.put(URL, json={**BODY, **change}, headers=key)
    assert response.status_code == 422, response.text
    assert set(response.json()) >= {"error", "detail"}


async def test_the_console_form_is_for_administrators_and_keeps_the_key_hidden(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    owner = await sign_in(database, await make_staff(database, workspace, Role.owner))
    supervisor = await sign_in(database, await make_staff(database, workspace, Role.supervisor))
    form = {
        "enabled": "on", "base_url": "https://llm.example.com/v1", "model": "gpt-4o-mini",
        "api_key": API_KEY, "timeout_seconds": "5",
    }  # fmt: skip
    refused = await client.post(
        "/console/assistant/generative", data=form, headers=session_headers(supervisor.token)
    )
    assert refused.status_code == 403
    saved = await client.post(
        "/console/assistant/generative", data=form, headers=session_headers(owner.token)
    )
    assert saved.status_code == 303
    page = await client.get("/console/assistant", headers=session_headers(owner.token))
    assert 'action="/console/assistant/generative"' in page.text
    assert "a key is stored" in page.text
    assert API_KEY not in page.text
    seen = await client.get("/console/assistant", headers=session_headers(supervisor.token))
    assert 'action="/console/assistant/generative"' not in seen.text
    assert "Model gpt-4o-mini at https://llm.example.com/v1." in seen.text
    bad = await client.post(
        "/console/assistant/generative", data={**form, "timeout_seconds": "99"},
        headers=session_headers(owner.token),
    )  # fmt: skip
    assert bad.status_code == 422
    assert "Check the timeout seconds." in bad.text
