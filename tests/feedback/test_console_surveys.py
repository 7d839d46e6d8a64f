"""The console's surveys area: list, create and edit (with readable form errors), preview,
turn on and off, campaigns with a count first, and each survey's responses (filters, keyset
pages, CSV), each route checking its scope and the workspace."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from rapport.core.db import Database
from rapport.feedback.answering import answer
from rapport.feedback.delivery import delivery
from rapport.feedback.links import survey_token
from rapport.feedback.models import SurveyResponse
from rapport.feedback.schemas import SurveyRead, SurveySend
from rapport.feedback.service import feedback
from rapport.identity.enums import Role
from rapport.identity.models import Workspace
from rapport.support.teams import teams
from rapport.web.console import AREAS
from rapport.web.console import surveys as survey_pages
from tests.fixtures.feedback import make_customer, make_survey
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.mail import smtp_server
from tests.web.console import csrf_of, sign_in

NPS_QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "nps",
        "type": "nps",
        "text": "How likely are you to recommend us?",
        "follow_ups": [{"min_score": 0, "max_score": 6, "text": "What could we do better?"}],
    }
]


@pytest.fixture(autouse=True)
def _mail(client: httpx.AsyncClient) -> Iterator[None]:
    """Outbound email on a loopback SMTP server (after the app configured its own), so
    surveys go out by email."""
    with smtp_server():
        yield


async def _signed_in(
    client: httpx.AsyncClient, database: Database, role: Role = Role.owner
) -> tuple[Workspace, str]:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace, role)
    await sign_in(client, account.email, account.password)
    return workspace, csrf_of((await client.get("/console/settings/profile")).text)


def _nps_form(token: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "name": "After-delivery NPS",
        "kind": "nps",
        "q0_id": "",
        "q0_type": "nps",
        "q0_text": "How likely are you to recommend us?",
        "q0_required": "1",
        "q0_f0_min": "0",
        "q0_f0_max": "6",
        "q0_f0_text": "What could we do better?",
        "q0_f1_min": "",
        "q0_f1_max": "",
        "q0_f1_text": "",
        "q1_id": "",
        "q1_type": "open_text",
        "q1_text": "",
        "trigger_event": "order_delivered",
        "delay_days": "7",
        "channel_1": "email",
        "channel_2": "",
        "channel_3": "",
        "active": "1",
    }
    return {**form, **changes}


async def _survey(database: Database, workspace_id: str, survey_id: str) -> SurveyRead:
    async with database.session() as session:
        return SurveyRead.model_validate(
            await feedback.get_survey(session, workspace_id, survey_id)
        )


async def _nps_survey(database: Database, workspace_id: str, **fields: Any) -> SurveyRead:
    values = {
        "name": "NPS",
        "kind": "nps",
        "questions": NPS_QUESTIONS,
        "trigger": {"event": "manual"},
    }
    return await make_survey(database, workspace_id, **{**values, **fields})


async def _answered(
    database: Database, workspace_id: str, survey_id: str, score: int, comment: str = ""
) -> str:
    """Send the survey to a new customer by hand and answer its link; return the customer."""
    customer_id = await make_customer(database, workspace_id)
    async with database.session() as session:
        sent = await delivery.send_by_hand(
            session, workspace_id, survey_id, SurveySend(customer_id=customer_id)
        )
    form = {"q_nps": [str(score)], "f_nps": [comment] if comment else []}
    await answer(database, survey_token(sent.invitation_id), form)
    return customer_id


async def test_surveys_is_a_real_area_in_the_navigation(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _signed_in(client, database)
    listed = await client.get("/console/surveys")
    assert listed.status_code == 200
    assert [area.label for area in AREAS if area.label == "Surveys" and area.enabled] == ["Surveys"]
    assert 'title="Surveys is coming soon"' not in listed.text
    assert '<a class="nav-item active" href="/console/surveys" aria-current="page">' in listed.text
    assert "No survey yet." in listed.text


async def test_an_nps_survey_with_a_follow_up_is_created_from_the_form(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database)
    form = await client.get("/console/surveys/new?kind=nps")
    created = await client.post("/console/surveys", data=_nps_form(token, marketing="1"))
    survey_id = created.headers["location"].split("/")[3]
    survey = await _survey(database, workspace.id, survey_id)
    assert "How likely are you to recommend us to a friend or colleague?" in form.text
    assert created.status_code == 303
    assert created.headers["location"] == f"/console/surveys/{survey_id}/edit?notice=survey-saved"
    assert (survey.name, survey.kind, survey.marketing, survey.active) == (
        "After-delivery NPS", "nps", True, True,
    )  # fmt: skip
    assert [q.model_dump() for q in survey.questions] == [
        {
            "id": "q1",
            "type": "nps",
            "text": "How likely are you to recommend us?",
            "choices": [],
            "required": True,
            "follow_ups": [{"min_score": 0, "max_score": 6, "text": "What could we do better?"}],
        }
    ]
    assert survey.trigger.model_dump() == {"event": "order_delivered", "delay_days": 7}
    assert survey.channels == ["email"]
    edit = await client.get(created.headers["location"])
    assert "Survey saved." in edit.text
    assert 'name="q0_f0_text" value="What could we do better?"' in edit.text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"q0_f0_max": "12"},
            "Question 1: A follow-up&#39;s score range lies within its question&#39;s scores.",
        ),
        ({"q0_f0_min": ""}, "Question 1, follow-up 1: give the lowest and highest score"),
        ({"channel_1": ""}, "Choose at least one delivery channel."),
        ({"channel_2": "email"}, "Choose each delivery channel once."),
        ({"delay_days": "soon"}, "The delay is a whole number of days, from 0 to 365."),
        ({"delay_days": "400"}, "Delay: Input should be less than or equal to 365."),
        ({"q0_text": ""}, "Ask at least one question."),
        ({"q0_type": "csat"}, "Question 1: A follow-up&#39;s score range"),
        ({"kind": "csat", "q0_f0_text": ""}, "A csat survey asks one csat question."),
        ({"q1_type": "single_choice", "q1_text": "Why?"}, "Question 2: Choices are given for"),
        ({"name": ""}, "Name: String should have at least 1 character."),
        ({"kind": "poll"}, "Kind: Input should be"),
    ],
)
async def test_a_refused_form_comes_back_with_its_values_and_a_readable_reason(
    client: httpx.AsyncClient, database: Database, changes: dict[str, str], message: str
) -> None:
    workspace, token = await _signed_in(client, database)
    refused = await client.post("/console/surveys", data=_nps_form(token, **changes))
    assert refused.status_code == 422
    assert '<div class="alert alert-error" role="alert">' in refused.text
    assert message in refused.text
    assert 'value="How likely are you to recommend us?"' in refused.text or not changes.get(
        "q0_text", "x"
    )
    async with database.session() as session:
        assert await feedback.list_surveys(session, workspace.id) == []


async def test_a_taken_name_is_a_form_error(client: httpx.AsyncClient, database: Database) -> None:
    workspace, token = await _signed_in(client, database)
    await _nps_survey(database, workspace.id, name="After-delivery NPS")
    refused = await client.post("/console/surveys", data=_nps_form(token))
    assert refused.status_code == 409
    assert "Another survey of this workspace has that name." in refused.text
    assert 'name="name" value="After-delivery NPS"' in refused.text


async def test_a_survey_is_edited_questions_added_and_removed(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database)
    survey = await _nps_survey(database, workspace.id)
    path = f"/console/surveys/{survey.id}/edit"
    shown = await client.get(path)
    form = _nps_form(
        token,
        name="NPS renamed",
        q0_id="nps",
        q1_type="single_choice",
        q1_text="What did you buy?",
        q1_choices="Shoes\r\n Socks \r\n\r\n",
        channel_1="chat",
        channel_2="email",
        trigger_event="conversation_resolved",
        delay_days="0",
    )
    form.pop("active")
    saved = await client.post(path, data=form)
    changed = await _survey(database, workspace.id, survey.id)
    assert 'name="q0_text" value="How likely are you to recommend us?"' in shown.text
    assert saved.status_code == 303
    assert changed.name == "NPS renamed"
    assert [(q.id, q.type, q.choices) for q in changed.questions] == [
        ("nps", "nps", []),
        ("q1", "single_choice", ["Shoes", "Socks"]),
    ]
    assert changed.channels == ["chat", "email"]
    assert (changed.trigger.event, changed.active) == ("conversation_resolved", False)
    removed = await client.post(path, data={**form, "q1_id": "q1", "q1_remove": "1"})
    assert removed.status_code == 303
    assert [q.id for q in (await _survey(database, workspace.id, survey.id)).questions] == ["nps"]
    # The kind stays: an NPS survey cannot lose its NPS question.
    kept = await client.post(path, data={**form, "q0_remove": "1"})
    assert kept.status_code == 422
    assert "A nps survey asks one nps question." in kept.text


async def test_add_another_question_and_type_changes_redraw_the_editor(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, token = await _signed_in(client, database)
    headers = {"HX-Request": "true"}
    added = await client.post(
        "/console/survey-editor?add=1", data=_nps_form(token), headers=headers
    )
    typed = await client.post(
        "/console/survey-editor", data=_nps_form(token, q1_type="csat"), headers=headers
    )
    assert added.status_code == 200
    assert 'name="q2_type"' in added.text and 'name="q3_type"' not in added.text
    assert 'name="q2_type"' not in typed.text
    assert 'name="q1_f0_text"' in typed.text


async def test_turning_a_survey_off_and_on(client: httpx.AsyncClient, database: Database) -> None:
    workspace, token = await _signed_in(client, database)
    survey = await _nps_survey(database, workspace.id)
    path = f"/console/surveys/{survey.id}/active"
    off = await client.post(path, data={"csrf_token": token, "active": "false"})
    assert off.status_code == 303
    assert (await _survey(database, workspace.id, survey.id)).active is False
    on = await client.post(
        path, data={"csrf_token": token, "active": "true"}, headers={"HX-Request": "true"}
    )
    assert on.status_code == 200
    assert on.text.lstrip().startswith(f'<tr id="survey-{survey.id}">')
    assert '<span class="pill pill-green">On</span> Turn off' in on.text
    assert (await _survey(database, workspace.id, survey.id)).active is True
    bad = await client.post(path, data={"csrf_token": token, "active": "maybe"})
    assert bad.status_code == 400


async def test_the_list_shows_counts_and_the_recent_score(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, _ = await _signed_in(client, database)
    survey = await _nps_survey(database, workspace.id, channels=["email"])
    for score in (10, 9, 7, 3):
        await _answered(database, workspace.id, survey.id, score)
    listed = await client.get("/console/surveys")
    # 2 promoters, 1 detractor of 4: (2 - 1) / 4 = +25.
    assert '<strong>NPS +25</strong> <span class="muted">(4)</span>' in listed.text
    assert "By hand or campaign only" in listed.text
    assert "<td>4</td>" in listed.text


async def test_without_the_write_scope_an_agent_reads_but_cannot_change(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database, Role.agent)
    survey = await _nps_survey(database, workspace.id)
    base = f"/console/surveys/{survey.id}"
    listed = await client.get("/console/surveys")
    shown = await client.get(f"{base}/edit")
    refused = [
        await client.get("/console/surveys/new"),
        await client.post("/console/surveys", data=_nps_form(token)),
        await client.post(f"{base}/edit", data=_nps_form(token)),
        await client.post(f"{base}/active", data={"csrf_token": token, "active": "false"}),
        await client.post(f"{base}/delete", data={"csrf_token": token}),
        await client.get(f"{base}/campaign"),
        await client.post(f"{base}/campaign", data={"csrf_token": token}),
        await client.post(
            "/console/survey-settings", data={"csrf_token": token, "throttle_days": "1"}
        ),
        # Every customer's answers with every agent's score are a report: not for agents.
        await client.get(f"{base}/responses"),
        await client.get(f"{base}/responses.csv"),
    ]
    assert (listed.status_code, shown.status_code) == (200, 200)
    assert "New survey" not in listed.text
    assert '<fieldset class="plain" disabled>' in shown.text
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert (await _survey(database, workspace.id, survey.id)).active is True


async def test_another_workspaces_survey_is_not_found(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, token = await _signed_in(client, database)
    other = await make_workspace(database)
    theirs = await _nps_survey(database, other.id)
    base = f"/console/surveys/{theirs.id}"
    answers = [
        await client.get(f"{base}/edit"),
        await client.post(f"{base}/edit", data=_nps_form(token)),
        await client.post(f"{base}/active", data={"csrf_token": token, "active": "false"}),
        await client.post(f"{base}/delete", data={"csrf_token": token}),
        await client.get(f"{base}/preview"),
        await client.get(f"{base}/campaign"),
        await client.post(f"{base}/campaign", data={"csrf_token": token}),
        await client.get(f"{base}/responses"),
        await client.get(f"{base}/responses.csv"),
    ]
    assert [response.status_code for response in answers] == [404] * len(answers)
    assert (await _survey(database, other.id, theirs.id)).active is True


async def test_forms_without_the_csrf_token_are_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database)
    survey = await _nps_survey(database, workspace.id)
    form = _nps_form(token)
    form.pop("csrf_token")
    created = await client.post("/console/surveys", data=form)
    toggled = await client.post(f"/console/surveys/{survey.id}/active", data={"active": "false"})
    assert (created.status_code, toggled.status_code) == (403, 403)
    async with database.session() as session:
        assert len(await feedback.list_surveys(session, workspace.id)) == 1


async def test_the_preview_is_the_customers_page_and_sends_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database)
    survey = await _nps_survey(database, workspace.id)
    shown = await client.get(f"/console/surveys/{survey.id}/preview")
    assert shown.status_code == 200
    assert "Preview: this is the page a customer's link opens." in shown.text
    assert "<legend>How likely are you to recommend us?</legend>" in shown.text
    assert 'class="field follow-up show-0 show-1 show-2 show-3 show-4 show-5 show-6"' in shown.text
    assert 'type="submit" disabled>Send</button>' in shown.text
    headers = {"HX-Request": "true"}
    draft = await client.post("/console/survey-preview", data=_nps_form(token), headers=headers)
    wrong = await client.post(
        "/console/survey-preview", data=_nps_form(token, q0_f0_max="11"), headers=headers
    )
    assert "What could we do better?" in draft.text
    assert 'name="q_q1" value="10"' in draft.text
    assert wrong.status_code == 200
    assert "Question 1: A follow-up&#39;s score range" in wrong.text


async def test_a_campaign_counts_before_it_sends(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database)
    survey = await _nps_survey(database, workspace.id)
    for _ in range(3):
        await make_customer(database, workspace.id)
    base = f"/console/surveys/{survey.id}/campaign"
    counted = await client.get(base)
    narrowed = await client.get(f"{base}?has_orders=true", headers={"HX-Request": "true"})
    started = await client.post(base, data={"csrf_token": token})
    assert "<strong>3</strong> customers match these filters." in counted.text
    assert "Send to 3 customers" in counted.text
    assert "<strong>0</strong> customers match these filters." in narrowed.text
    assert "Send to" not in narrowed.text
    assert started.status_code == 303
    assert started.headers["location"] == f"{base}?started=3"
    done = await client.get(started.headers["location"])
    assert "Campaign started: the survey is going out to 3 matching customers" in done.text
    bad_date = await client.get(f"{base}?seen_since=yesterday")
    assert bad_date.status_code == 422
    assert "Seen since is a date, such as 2026-11-01." in bad_date.text


async def test_an_inactive_survey_is_not_sent_to_a_group(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database)
    survey = await _nps_survey(database, workspace.id, active=False)
    await make_customer(database, workspace.id)
    base = f"/console/surveys/{survey.id}/campaign"
    shown = await client.get(base)
    refused = await client.post(base, data={"csrf_token": token})
    assert "This survey is off. Turn it on before sending it to a group." in shown.text
    assert refused.status_code == 409
    assert "The survey is not active" in refused.text


async def test_responses_are_listed_filtered_and_paged(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace, _ = await _signed_in(client, database, Role.supervisor)
    survey = await _nps_survey(database, workspace.id)
    late = await _answered(database, workspace.id, survey.id, 3, "The parcel came late")
    await _answered(database, workspace.id, survey.id, 9)
    await _answered(database, workspace.id, survey.id, 10)
    base = f"/console/surveys/{survey.id}/responses"
    everything = await client.get(base)
    detractors = await client.get(f"{base}?score_max=6")
    delivery_topic = await client.get(f"{base}?topic=delivery&comment=yes")
    assert everything.status_code == 200
    assert everything.text.count("<tr>") == 4  # the header and three answers
    assert detractors.text.count("<tr>") == 2
    assert "The parcel came late" in detractors.text
    assert f'href="/console/customers/{late}"' in detractors.text
    assert "pill-red" in detractors.text and "delivery" in detractors.text
    assert delivery_topic.text.count("<tr>") == 2
    monkeypatch.setattr(survey_pages, "PAGE_SIZE", 2)
    first = await client.get(base)
    older = first.text.split('<p class="pager"><a class="button" href="', 1)[1].split('"', 1)[0]
    second = await client.get(older.replace("&amp;", "&"))
    assert first.text.count("<tr>") == 3 and second.text.count("<tr>") == 2
    assert "The parcel came late" in second.text  # the oldest answer comes last
    assert '<p class="pager">' not in second.text
    for wrong in (
        "score_min=x",
        "from=2026-13-01",
        "sentiment=angry",
        "channel=fax",
        "cursor=nope",
    ):
        refused = await client.get(f"{base}?{wrong}")
        assert refused.status_code in (400, 422), wrong
        assert '<div class="alert alert-error"' in refused.text or "error" in refused.text


async def test_responses_export_as_csv(client: httpx.AsyncClient, database: Database) -> None:
    workspace, _ = await _signed_in(client, database)
    survey = await _nps_survey(database, workspace.id)
    customer = await _answered(database, workspace.id, survey.id, 2, "=HYPERLINK(1) too slow")
    await _answered(database, workspace.id, survey.id, 10)
    exported = await client.get(f"/console/surveys/{survey.id}/responses.csv?score_max=6")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert rows[0] == survey_pages.CSV_HEADER
    assert len(rows) == 2
    assert rows[1][1:3] == ["2", "'=HYPERLINK(1) too slow"]
    assert rows[1][6:8] == ["email", customer]


async def test_a_supervisor_limited_to_their_teams_sees_only_those_teams_answers(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    lead = await make_staff(database, workspace, Role.supervisor)
    survey = await _nps_survey(database, workspace.id)
    ours = await _answered(database, workspace.id, survey.id, 4, "Ours: slow refund")
    theirs = await _answered(database, workspace.id, survey.id, 2, "Theirs: broken lamp")
    await _answered(database, workspace.id, survey.id, 5, "No team: fine")
    async with database.session() as session:
        billing = await teams.create(session, workspace.id, "Billing")
        returns = await teams.create(session, workspace.id, "Returns")
        await teams.add_member(session, workspace.id, billing.id, lead.user.id)
        await teams.limit_agent(session, workspace.id, lead.user.id, True)
        for customer_id, team_id in ((ours, billing.id), (theirs, returns.id)):
            await session.execute(
                update(SurveyResponse)
                .where(SurveyResponse.customer_id == customer_id)
                .values(team_id=team_id)
            )
    await sign_in(client, lead.email, lead.password)
    base = f"/console/surveys/{survey.id}/responses"
    listed = (await client.get(base)).text
    exported = list(csv.reader(io.StringIO((await client.get(f"{base}.csv")).text)))
    assert "Ours: slow refund" in listed
    assert "Theirs: broken lamp" not in listed and "No team: fine" not in listed
    assert [row[2] for row in exported[1:]] == ["Ours: slow refund"]
    # The survey list counts only those answers too (responses, and the recent score's count).
    assert _cells(await _survey_row(client, survey.id))[3:5] == ["1", "NPS -100 (1)"]
    async with database.session() as session:
        await teams.limit_agent(session, workspace.id, lead.user.id, False)
    everyone = (await client.get(base)).text
    assert "Theirs: broken lamp" in everyone and "No team: fine" in everyone
    assert _cells(await _survey_row(client, survey.id))[3:5] == ["3", "NPS -100 (3)"]


async def _survey_row(client: httpx.AsyncClient, survey_id: str) -> str:
    listed = (await client.get("/console/surveys")).text
    row = re.search(rf'<tr id="survey-{survey_id}">.*?</tr>', listed, re.DOTALL)
    assert row is not None
    return row.group(0)


def _cells(row: str) -> list[str]:
    """The text of a table row's cells, tags dropped and spaces folded."""
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]


async def test_the_throttle_is_set_from_the_list(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database)
    saved = await client.post(
        "/console/survey-settings", data={"csrf_token": token, "throttle_days": "14"}
    )
    refused = await client.post(
        "/console/survey-settings", data={"csrf_token": token, "throttle_days": "-1"}
    )
    async with database.session() as session:
        settings = await feedback.settings(session, workspace.id)
    assert saved.status_code == 303
    assert settings.throttle_days == 14
    assert refused.status_code == 422
    assert "The throttle is a whole number of days from 0 (off) to 365." in refused.text


async def test_deleting_keeps_the_responses(client: httpx.AsyncClient, database: Database) -> None:
    workspace, token = await _signed_in(client, database)
    survey = await _nps_survey(database, workspace.id)
    customer = await _answered(database, workspace.id, survey.id, 8)
    deleted = await client.post(f"/console/surveys/{survey.id}/delete", data={"csrf_token": token})
    assert deleted.headers["location"] == "/console/surveys?notice=survey-deleted"
    async with database.session() as session:
        kept = await feedback.for_customer(session, workspace.id, customer)
    assert [(response.score, response.survey_id) for response in kept] == [(8, None)]


async def test_a_survey_link_still_opens_beside_the_console_pages(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    survey = await _nps_survey(database, workspace.id)
    customer_id = await make_customer(database, workspace.id)
    async with database.session() as session:
        sent = await delivery.send_by_hand(
            session, workspace.id, survey.id, SurveySend(customer_id=customer_id)
        )
    opened = await client.get(f"/console/surveys/{survey_token(sent.invitation_id)}")
    assert opened.status_code == 200
    assert "How likely are you to recommend us?" in opened.text
    assert "Preview:" not in opened.text
