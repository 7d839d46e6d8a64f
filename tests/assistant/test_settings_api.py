"""The assistant settings API: defaults, changes, bad input, who may call it, and how soon the
turns see a change."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from rapport.assistant.service import assistant
from rapport.core.db import Database
from rapport.core.recent import SETTINGS_SECONDS
from rapport.identity.enums import Scope
from rapport.support.enums import Channel
from tests.fixtures.assistant import enable_assistant
from tests.fixtures.authorization import Case, call_case, case_name
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.recent import RecentClock

READ, ASSIGN = Scope.conversations_read, Scope.conversations_assign
CASES = [
    Case("GET", "/api/v1/assistant-settings", READ),
    Case("PUT", "/api/v1/assistant-settings", ASSIGN, json={"channel": "chat", "enabled": True}),
]


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_anonymous_is_401(client: httpx.AsyncClient, database: Database, case: Case) -> None:
    response = await call_case(client, case, {}, {})
    assert (response.status_code, response.json()["error"]) == (401, "NotSignedIn")


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_wrong_scope_is_403(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    workspace = await make_workspace(database)
    secret = await make_api_key(database, workspace, [s for s in Scope if s != case.scope])
    response = await call_case(client, case, {}, bearer(secret))
    assert (response.status_code, response.json()["error"]) == (403, "MissingScope")


@pytest.mark.parametrize("case", CASES, ids=case_name)
async def test_right_scope_succeeds(
    client: httpx.AsyncClient, database: Database, case: Case
) -> None:
    workspace = await make_workspace(database)
    secret = await make_api_key(database, workspace, [case.scope])
    response = await call_case(client, case, {}, bearer(secret))
    assert response.status_code == case.ok, response.text


async def test_settings_are_per_workspace(client: httpx.AsyncClient, database: Database) -> None:
    mine = bearer(await make_api_key(database, await make_workspace(database)))
    theirs = bearer(await make_api_key(database, await make_workspace(database)))
    await client.put(
        "/api/v1/assistant-settings",
        json={"channel": "chat", "enabled": True, "name": "Ada"}, headers=mine,
    )  # fmt: skip
    listed = (await client.get("/api/v1/assistant-settings", headers=theirs)).json()["items"]
    chat = next(item for item in listed if item["channel"] == "chat")
    assert (chat["enabled"], chat["name"]) == (False, "Assistant")


async def test_a_change_is_kept_and_listed(client: httpx.AsyncClient, database: Database) -> None:
    key = bearer(await make_api_key(database, await make_workspace(database)))
    body = {
        "enabled": True, "name": "Ada", "confidence_threshold": 0.7,
        "negative_sentiment_threshold": -0.5, "knowledge_threshold": 0.4, "vip_trait": "vip",
    }  # fmt: skip
    await client.put("/api/v1/assistant-settings", json={"channel": "chat", **body}, headers=key)
    listed = (await client.get("/api/v1/assistant-settings", headers=key)).json()["items"]
    chat = next(item for item in listed if item["channel"] == "chat")
    assert {name: chat[name] for name in body} == body
    assert [item["enabled"] for item in listed if item["channel"] != "chat"] == [False] * 5


@pytest.mark.parametrize(
    "body",
    [
        {"channel": "fax", "enabled": True},
        {"channel": "chat", "enabled": True, "confidence_threshold": 2},
        {"channel": "chat", "enabled": True, "name": "<script>"},
        {"channel": "chat", "enabled": True, "vip_trait": "no spaces"},
        {"enabled": True},
        {"channel": "chat"},
    ],
)
async def test_bad_settings_are_422(
    client: httpx.AsyncClient, database: Database, body: dict[str, object]
) -> None:
    key = bearer(await make_api_key(database, await make_workspace(database)))
    response = await client.put("/api/v1/assistant-settings", json=body, headers=key)
    assert response.status_code == 422
    assert set(response.json()) >= {"error", "detail"}


async def test_the_turns_see_a_change_here_at_once_and_from_elsewhere_within_seconds(
    database: Database, recent_clock: RecentClock
) -> None:
    """The settings every turn reads are kept for SETTINGS_SECONDS (core.recent)."""
    workspace = await make_workspace(database)

    async def enabled() -> bool:
        async with database.session() as session:
            return await assistant.owns_new(session, workspace.id, Channel.chat)

    assert not await enabled()
    await enable_assistant(database, workspace.id, Channel.chat)  # this process: seen at once
    assert await enabled()
    async with database.session() as session:  # another process switches it off
        await session.execute(
            text("UPDATE assistant_settings SET enabled = :off WHERE workspace_id = :w"),
            {"off": False, "w": workspace.id},
        )
    assert await enabled()
    recent_clock.advance(SETTINGS_SECONDS + 0.1)
    assert not await enabled()
