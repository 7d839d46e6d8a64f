"""The inline survey in the chat widget: the open widget is told a survey waits after the
chat is resolved, the visitor who owns the chat reads its questions and answers once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rapport.app import create_app
from rapport.config import Settings
from rapport.core.db import Database
from rapport.feedback.delivery import FollowedConversation, delivery
from rapport.feedback.models import SurveyInvitation, SurveyResponse
from rapport.feedback.service import feedback
from rapport.identity.models import Source
from rapport.worker.runner import Worker
from tests.fixtures.feedback import make_customer, make_survey
from tests.fixtures.identity import bearer, make_api_key, make_source, make_workspace


@pytest.fixture
def test_client(settings: Settings) -> Iterator[TestClient]:
    """A client that runs the app (and its own database pool) on its own event loop."""
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield client


def _database(client: TestClient) -> Database:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database


def _call(client: TestClient, function: Any, *args: Any) -> Any:
    assert client.portal is not None
    return client.portal.call(function, *args)


async def _setup(database: Database) -> tuple[Source, str, str, dict[str, str]]:
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    customer_id = await make_customer(database, workspace.id)
    survey = await make_survey(database, workspace.id, channels=["chat"])
    return source, customer_id, survey.id, bearer(await make_api_key(database, workspace))


def _invite(client: TestClient, source: Source, survey_id: str, customer_id: str, chat: str) -> str:
    async def invite() -> str:
        async with _database(client).session() as session:
            survey = await feedback.get_survey(session, source.workspace_id, survey_id)
            followed = FollowedConversation(chat, "chat", None, "staff-1")
            sent = await delivery.send(session, source.workspace_id, survey, customer_id, followed)
            assert sent is not None
            return sent.id

    result: str = _call(client, invite)
    return result


def _until(websocket: Any, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = websocket.receive_json()
        if frame["type"] == kind:
            return frame


def _chat(client: TestClient, source: Source) -> tuple[Any, str, str]:
    websocket = client.websocket_connect("/widget/ws").__enter__()
    websocket.send_json({"type": "hello", "write_key": source.write_key})
    token = _until(websocket, "ready")["visitor_token"]
    websocket.send_json({"type": "message", "client_id": "client-0001", "body": "Where is it?"})
    return websocket, token, _until(websocket, "ack")["conversation_id"]


def test_the_widget_is_told_and_the_visitor_answers_once(test_client: TestClient) -> None:
    source, customer_id, survey_id, _ = _call(test_client, _setup, _database(test_client))
    websocket, token, chat = _chat(test_client, source)
    try:
        _invite(test_client, source, survey_id, customer_id, chat)
        pushed = _until(websocket, "survey")
    finally:
        websocket.__exit__(None, None, None)
    bearer = {"authorization": f"Bearer {token}"}
    shown = test_client.get(f"/widget/survey?conversation_id={chat}", headers=bearer)
    body = {"conversation_id": chat, "answers": {"q_csat": ["2"], "f_csat": ["Too slow"]}}
    first = test_client.post("/widget/survey", json=body, headers=bearer)
    again = test_client.post("/widget/survey", json=body, headers=bearer)
    after = test_client.get(f"/widget/survey?conversation_id={chat}", headers=bearer)
    assert pushed == {"type": "survey", "conversation_id": chat}
    assert shown.status_code == 200
    assert (shown.json()["survey_id"], [q["id"] for q in shown.json()["questions"]]) == (
        survey_id, ["csat", "why"],
    )  # fmt: skip
    assert (first.status_code, first.json()) == (200, {"score": 2})
    assert (again.status_code, again.json()["error"]) == (410, "SurveyLinkUsed")
    assert after.status_code == 204

    async def stored() -> list[tuple[Any, ...]]:
        async with _database(test_client).session() as session:
            rows = (await session.execute(select(SurveyResponse))).scalars().all()
            return [(r.score, r.channel, r.conversation_id, r.staff_id) for r in rows]

    assert _call(test_client, stored) == [(2, "chat", chat, "staff-1")]


def test_another_visitor_neither_reads_nor_answers_the_survey(test_client: TestClient) -> None:
    source, customer_id, survey_id, _ = _call(test_client, _setup, _database(test_client))
    websocket, _, chat = _chat(test_client, source)
    websocket.__exit__(None, None, None)
    _invite(test_client, source, survey_id, customer_id, chat)
    started = test_client.post("/widget/sessions", json={"write_key": source.write_key})
    other = {"authorization": f"Bearer {started.json()['visitor_token']}"}
    shown = test_client.get(f"/widget/survey?conversation_id={chat}", headers=other)
    body = {"conversation_id": chat, "answers": {"q_csat": ["5"]}}
    posted = test_client.post("/widget/survey", json=body, headers=other)
    anonymous = test_client.post("/widget/survey", json=body)
    assert (shown.status_code, posted.status_code) == (404, 404)
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "VisitorNotRecognised")


def test_a_bad_answer_is_a_422_and_the_survey_still_waits(test_client: TestClient) -> None:
    source, customer_id, survey_id, _ = _call(test_client, _setup, _database(test_client))
    websocket, token, chat = _chat(test_client, source)
    websocket.__exit__(None, None, None)
    _invite(test_client, source, survey_id, customer_id, chat)
    bearer = {"authorization": f"Bearer {token}"}
    out_of_range = {"conversation_id": chat, "answers": {"q_csat": ["9"]}}
    bad_field = {"conversation_id": chat, "answers": {"csat": ["5"]}}
    first = test_client.post("/widget/survey", json=out_of_range, headers=bearer)
    second = test_client.post("/widget/survey", json=bad_field, headers=bearer)
    shown = test_client.get(f"/widget/survey?conversation_id={chat}", headers=bearer)
    assert (first.status_code, first.json()["error"]) == (422, "InvalidAnswer")
    assert second.status_code == 422
    assert shown.status_code == 200


def test_resolving_an_anonymous_chat_asks_its_visitor_once(test_client: TestClient) -> None:
    source, _, survey_id, key = _call(test_client, _setup, _database(test_client))
    websocket, token, chat = _chat(test_client, source)
    try:
        for status in ("resolved", "open", "resolved"):
            changed = test_client.patch(
                f"/api/v1/conversations/{chat}", json={"status": status}, headers=key
            )
            assert changed.status_code == 200
            _call(test_client, Worker(_database(test_client)).run_pending)
        shown = test_client.get(
            f"/widget/survey?conversation_id={chat}", headers={"authorization": f"Bearer {token}"}
        )
        # Checked before waiting for the push, which would never come without a survey.
        assert (shown.status_code, shown.json()["survey_id"]) == (200, survey_id)
        pushed = _until(websocket, "survey")
    finally:
        websocket.__exit__(None, None, None)

    async def invitations() -> list[tuple[Any, ...]]:
        async with _database(test_client).session() as session:
            rows = (await session.execute(select(SurveyInvitation))).scalars().all()
            return [(r.customer_id, r.channel, r.conversation_id) for r in rows]

    assert pushed == {"type": "survey", "conversation_id": chat}
    assert _call(test_client, invitations) == [(None, "chat", chat)]
