"""Probe: a survey's choices are held to the same rule as its other texts (no control
characters) and kept stripped, as the page compares answers: a choice with NUL, a line break
or surrounding spaces could never be chosen."""

from __future__ import annotations

import httpx
import pytest

from rapport.core.db import Database
from rapport.feedback.answering import read_answers
from rapport.feedback.schemas import Question
from tests.fixtures.identity import bearer, make_api_key, make_workspace


@pytest.mark.parametrize("choice", ["a\x00b", "two\nlines", "tab\there"])
async def test_a_choice_with_a_control_character_is_refused(
    database: Database, client: httpx.AsyncClient, choice: str
) -> None:
    key = bearer(await make_api_key(database, await make_workspace(database)))
    question = {"id": "c", "type": "single_choice", "text": "Which?", "choices": [choice, "b"]}
    body = {
        "name": "Choices",
        "kind": "custom",
        "questions": [question],
        "trigger": {"event": "manual"},
    }

    answer = await client.post("/api/v1/surveys", json=body, headers=key)

    assert (answer.status_code, answer.json()["error"]) == (422, "ValidationError")
    assert "each choice has 1 to 200 characters and no control character" in answer.json()["detail"]


async def test_a_choice_is_kept_stripped_and_can_be_chosen(
    database: Database, client: httpx.AsyncClient
) -> None:
    key = bearer(await make_api_key(database, await make_workspace(database)))
    question = {"id": "c", "type": "single_choice", "text": "Which?", "choices": [" Yes ", "No"]}
    body = {
        "name": "Padded",
        "kind": "custom",
        "questions": [question],
        "trigger": {"event": "manual"},
    }

    answer = await client.post("/api/v1/surveys", json=body, headers=key)
    survey = await client.get(f"/api/v1/surveys/{answer.json()['id']}", headers=key)
    [stored] = [Question.model_validate(item) for item in survey.json()["questions"]]

    assert (answer.status_code, stored.choices) == (201, ["Yes", "No"])
    assert read_answers([stored], "custom", {"q_c": [" Yes "]}).values == {"c": "Yes"}
