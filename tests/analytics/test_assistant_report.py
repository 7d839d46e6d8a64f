"""The assistant's report (GET /api/v1/metrics/assistant): real turns record why the
assistant handed off and the intent in hand, and the report counts what it resolved alone,
what it handed off, why, and on which intents; who may read it; bad windows are 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.identity.models import Workspace
from rapport.support.enums import ConversationStatus, MetricKind
from rapport.support.models import MetricEvent
from rapport.support.schemas import ConversationUpdate
from rapport.support.service import conversations
from rapport.support.teams import teams
from rapport.worker.runner import Worker
from tests.fixtures.assistant import enable_assistant, fake_models, open_conversation, say
from tests.fixtures.identity import bearer, make_api_key, make_staff, make_workspace
from tests.fixtures.metrics import staff_acting
from tests.fixtures.sessions import session_headers, sign_in


@pytest.fixture(autouse=True)
def _fake_models() -> Iterator[None]:
    with fake_models():
        yield


def _today() -> dict[str, str]:
    today = utcnow().date()
    return {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}


async def _held_four(database: Database) -> tuple[Workspace, str]:
    """A workspace whose assistant held four conversations today: one resolved alone, one
    handed off on request, one not understood twice, one an agent stepped into."""
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    owner = await make_staff(database, workspace, Role.owner)
    await open_conversation(database, workspace.id, "I want to talk to a human")
    unclear = await open_conversation(database, workspace.id, "blorp")
    answered = await open_conversation(database, workspace.id, "How long does shipping take?")
    taken = await open_conversation(database, workspace.id, "zzz")
    await Worker(database, concurrency=1).run_pending()
    await say(database, workspace.id, unclear, "blorp blorp")
    await say(database, workspace.id, answered, "thanks")
    async with database.session() as session:
        await conversations.update(
            session, workspace.id, taken, ConversationUpdate(status=ConversationStatus.open),
            staff_acting(owner.user.id),
        )  # fmt: skip
    return workspace, owner.user.id


async def test_each_hand_off_records_its_reason_and_intent(database: Database) -> None:
    workspace, owner_id = await _held_four(database)
    async with database.session() as session:
        rows = (
            await session.execute(
                select(MetricEvent.staff_id, MetricEvent.data).where(
                    MetricEvent.workspace_id == workspace.id,
                    MetricEvent.kind == MetricKind.handoff,
                )
            )
        ).all()
    assert sorted(((staff or "", data) for staff, data in rows), key=str) == [
        ("", {"reason": "asked_for_human", "intent": "contact_human_agent"}),
        ("", {"reason": "out_of_scope", "intent": "out_of_scope"}),
        (owner_id, {"reason": "taken_over"}),
    ]


async def test_the_report_counts_what_the_assistant_did(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, _ = await _held_four(database)
    key = await make_api_key(database, workspace)
    response = await client.get("/api/v1/metrics/assistant", params=_today(), headers=bearer(key))
    assert response.status_code == 200
    found = response.json()
    assert (found["held"], found["resolved_alone"], found["handed_off"]) == (4, 1, 3)
    assert found["containment_rate"] == 25.0
    assert found["reasons"] == [
        {"reason": "asked_for_human", "handoffs": 1, "gap": False},
        {"reason": "out_of_scope", "handoffs": 1, "gap": True},
        {"reason": "taken_over", "handoffs": 1, "gap": False},
    ]
    assert found["intents"] == [
        {"intent": "out_of_scope", "handoffs": 1, "unanswered": 1, "reasons": {"out_of_scope": 1}},
        {
            "intent": "contact_human_agent", "handoffs": 1, "unanswered": 0,
            "reasons": {"asked_for_human": 1},
        },
    ]  # fmt: skip
    assert found["days"] == [{"day": _today()["from"], "resolved_alone": 1, "handed_off": 3}]
    assert (found["from"], found["time_zone"], found["channel"]) == (_today()["from"], "UTC", None)


async def test_a_channel_without_the_assistant_counts_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, _ = await _held_four(database)
    key = await make_api_key(database, workspace)
    params = {**_today(), "channel": "chat"}
    response = await client.get("/api/v1/metrics/assistant", params=params, headers=bearer(key))
    found = response.json()
    assert (found["held"], found["reasons"], found["intents"], found["channel"]) == (
        0, [], [], "chat",
    )  # fmt: skip
    assert found["containment_rate"] is None


async def test_another_workspace_sees_none_of_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _held_four(database)
    other = await make_api_key(database, await make_workspace(database))
    found = (
        await client.get("/api/v1/metrics/assistant", params=_today(), headers=bearer(other))
    ).json()
    assert (found["held"], found["reasons"], found["intents"]) == (0, [], [])


async def test_agents_and_team_limited_supervisors_are_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    agent = await make_staff(database, workspace, Role.agent)
    supervisor = await make_staff(database, workspace, Role.supervisor)
    async with database.session() as session:
        await teams.limit_agent(session, workspace.id, supervisor.user.id, True)
    for account in (agent, supervisor):
        headers = session_headers((await sign_in(database, account)).token)
        refused = await client.get("/api/v1/metrics/assistant", params=_today(), headers=headers)
        assert (refused.status_code, refused.json()["error"]) == (403, "WholeWorkspaceOnly")
    admin = await make_staff(database, workspace, Role.admin)
    headers = session_headers((await sign_in(database, admin)).token)
    allowed = await client.get("/api/v1/metrics/assistant", params=_today(), headers=headers)
    assert (allowed.status_code, allowed.json()["held"]) == (200, 0)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"from": "2026-03-02", "to": "2026-03-02"}, 422),
        ({"from": "2026-03-02", "to": "2030-03-02"}, 422),
        ({"from": "yesterday", "to": "2026-03-02"}, 422),
        ({"from": "2026-03-02"}, 422),
        ({"from": "2026-03-02", "to": "2026-03-03", "channel": "fax"}, 422),
    ],
)
async def test_bad_windows_and_filters_are_clear_errors(
    client: httpx.AsyncClient, database: Database, params: dict[str, str], status: int
) -> None:
    key = await make_api_key(database, await make_workspace(database))
    response = await client.get("/api/v1/metrics/assistant", params=params, headers=bearer(key))
    assert response.status_code == status
    assert response.json()["detail"]
