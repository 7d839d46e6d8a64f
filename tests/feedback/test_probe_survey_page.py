"""Probe: a survey page's score that Python calls a digit but is none (superscripts, other
scripts, thousands of digits) is refused with the page's message, never a 500."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from rapport.core.db import Database
from rapport.feedback.delivery import delivery
from rapport.feedback.links import LINK_PATH, survey_token
from rapport.feedback.models import SurveyResponse
from rapport.feedback.service import feedback
from tests.fixtures.feedback import answer_page, make_customer, make_survey
from tests.fixtures.identity import make_workspace
from tests.fixtures.mail import smtp_server


async def _path(database: Database) -> str:
    workspace = await make_workspace(database)
    customer_id = await make_customer(database, workspace.id)
    survey = await make_survey(database, workspace.id)
    with smtp_server():
        async with database.session() as session:
            found = await feedback.get_survey(session, workspace.id, survey.id)
            invitation = await delivery.send(session, workspace.id, found, customer_id)
    assert invitation is not None
    return f"{LINK_PATH}{survey_token(invitation.id)}"


@pytest.mark.parametrize("score", ["\u00b2", "\u0663", "0" * 5000 + "4", "\uff14"])
async def test_an_odd_digit_is_refused_and_the_link_still_works(
    database: Database, client: httpx.AsyncClient, score: str
) -> None:
    path = await _path(database)
    refused = await answer_page(client, path, {"q_csat": score})
    async with database.session() as session:
        stored = await session.scalar(select(func.count()).select_from(SurveyResponse))
    accepted = await answer_page(client, path, {"q_csat": "4"})
    assert (refused.status_code, stored, accepted.status_code) == (422, 0, 200)
    assert "Choose a score from 1 to 5" in refused.text
