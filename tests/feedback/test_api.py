"""The survey API: surveys checked as they are created and changed, responses listed by
customer (merged profiles included) with their comment opened, pages by cursor."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from rapport.core.db import Database
from rapport.feedback.imports import ImportedRow, label_rows, prepare, response_imports
from rapport.identity.models import Workspace
from tests.fixtures.feedback import CSAT_QUESTIONS, make_customer, make_survey
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.mail import smtp_server


async def _headers(database: Database, workspace: Workspace) -> dict[str, str]:
    return bearer(await make_api_key(database, workspace))


async def _import(database: Database, workspace: Workspace, *rows: tuple[str, int, str]) -> None:
    checked = [
        ImportedRow(
            line,
            user_id,
            score,
            datetime(2026, 3, line, tzinfo=UTC),
            None,
            comment or None,
            "email",
        )
        for line, (user_id, score, comment) in enumerate(rows, start=1)
    ]
    async with database.session() as session:
        await response_imports.store(
            session, workspace.id, prepare("nps", checked, label_rows(checked))
        )


async def test_a_survey_round_trips_and_a_bad_one_is_422(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    headers = await _headers(database, workspace)
    body = {"name": "Support CSAT", "kind": "csat", "questions": CSAT_QUESTIONS}
    created = await client.post("/api/v1/surveys", json=body, headers=headers)
    taken = await client.post("/api/v1/surveys", json=body, headers=headers)
    no_csat = {**body, "name": "Other", "questions": CSAT_QUESTIONS[1:]}
    refused = await client.post("/api/v1/surveys", json=no_csat, headers=headers)
    survey = created.json()
    assert (created.status_code, taken.status_code, refused.status_code) == (201, 409, 422)
    assert (survey["trigger"], survey["channels"], survey["marketing"]) == (
        {"event": "conversation_resolved", "delay_days": 0},
        ["email"],
        False,
    )
    assert survey["questions"][0]["follow_ups"] == [
        {"min_score": 1, "max_score": 3, "text": "What could we do better?"}
    ]
    changed = await client.patch(
        f"/api/v1/surveys/{survey['id']}", json={"active": False}, headers=headers
    )
    assert (changed.status_code, changed.json()["active"]) == (200, False)


async def test_a_follow_up_outside_its_scores_is_422(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    question = {**CSAT_QUESTIONS[0], "follow_ups": [{"min_score": 0, "max_score": 3, "text": "?"}]}
    body = {"name": "Bad", "kind": "csat", "questions": [question]}
    response = await client.post(
        "/api/v1/surveys", json=body, headers=await _headers(database, workspace)
    )
    assert response.status_code == 422


async def test_responses_of_a_customer_newest_first_by_pages(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    await _import(database, workspace, ("u-1", 9, "Lovely"), ("u-2", 3, ""), ("u-1", 10, ""))
    headers = await _headers(database, workspace)
    everyone = (await client.get("/api/v1/survey-responses", headers=headers)).json()
    customer_id = everyone["items"][0]["customer_id"]
    first = await client.get(
        "/api/v1/survey-responses",
        params={"customer_id": customer_id, "limit": 1},
        headers=headers,
    )
    second = await client.get(
        "/api/v1/survey-responses",
        params={"customer_id": customer_id, "limit": 1, "cursor": first.json()["next_cursor"]},
        headers=headers,
    )
    assert [item["score"] for item in everyone["items"]] == [10, 3, 9]
    assert [(item["score"], item["comment"]) for item in first.json()["items"]] == [(10, None)]
    assert [(item["score"], item["comment"]) for item in second.json()["items"]] == [(9, "Lovely")]
    assert second.json()["next_cursor"] is None


async def test_a_forged_cursor_is_400(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    response = await client.get(
        "/api/v1/survey-responses",
        params={"cursor": "abc"},
        headers=await _headers(database, workspace),
    )
    assert response.status_code == 400


async def test_a_survey_sent_by_hand_is_throttled_like_any_other(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    headers = await _headers(database, workspace)
    customer_id = await make_customer(database, workspace.id)
    survey = await make_survey(database, workspace.id, trigger={"event": "manual"})
    path = f"/api/v1/surveys/{survey.id}/sends"
    with smtp_server():
        sent = await client.post(path, json={"customer_id": customer_id}, headers=headers)
        again = await client.post(path, json={"customer_id": customer_id}, headers=headers)
    assert (sent.status_code, sent.json()["channel"]) == (201, "email")
    assert (again.status_code, again.json()["error"]) == (409, "SurveyNotSent")
