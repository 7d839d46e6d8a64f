"""The console's custom intents page: everyone who reads conversations sees the intents and
their check, supervisors add, change and delete them, and a bad form says what is wrong."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from rapport.assistant.custom_intents import custom_intents
from rapport.assistant.dialogue import TASKS
from rapport.assistant.repository import CustomIntentDayRepository
from rapport.assistant.schemas import CustomIntentWrite
from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role
from rapport.web.console.assistant_intents import HAND_OFF, THEN
from tests.fixtures.custom_intents import (
    PAGE,
    fake_embedding,  # noqa: F401 (an autouse fixture)
    signed_in,
)

FORM = {
    "name": "Store hours",
    "examples": "What are your opening hours?\r\n\r\n  When does the shop open?  \r\n",
    "answer": "We are open 9:00-18:00.\r\nClosed on Sundays.",
    "min_similarity": "0.7",
    "enabled": "on",
}


async def stored(database: Database, workspace_id: str) -> list[CustomIntentWrite]:
    async with database.session() as session:
        listed = await custom_intents.listed(session, workspace_id)
    return [CustomIntentWrite.model_validate(item, from_attributes=True) for item in listed.items]


async def test_a_supervisor_adds_one_from_the_form(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.supervisor)
    response = await client.post(PAGE, data=FORM, headers=headers)
    assert (response.status_code, response.headers["location"]) == (303, PAGE)
    assert await stored(database, workspace_id) == [
        CustomIntentWrite(
            name="store_hours",
            examples=["What are your opening hours?", "When does the shop open?"],
            answer="We are open 9:00-18:00.\nClosed on Sundays.",
            min_similarity=0.7,
        )
    ]
    page = await client.get(PAGE, headers=headers)
    assert 'id="intent-store_hours"' in page.text
    assert "Check: 0 of 2 examples are found by the others" in page.text


async def test_a_supervisor_changes_switches_off_and_deletes_one(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.supervisor)
    await client.post(PAGE, data=FORM, headers=headers)
    async with database.session() as session:
        [intent] = (await custom_intents.listed(session, workspace_id)).items
    change = {**FORM, "answer": "Open every day.", "enabled": "", "then": "hand_off"}
    response = await client.post(f"{PAGE}/{intent.id}", data=change, headers=headers)
    assert response.status_code == 303
    [changed] = await stored(database, workspace_id)
    assert (changed.answer, changed.enabled, changed.hand_off) == ("Open every day.", False, True)
    response = await client.post(f"{PAGE}/{intent.id}/delete", data={}, headers=headers)
    assert response.status_code == 303
    assert await stored(database, workspace_id) == []


async def test_an_agent_sees_the_intents_without_a_form(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.agent)
    body = CustomIntentWrite(name="store_hours", examples=["When do you open?"], answer="At 9.")
    async with database.session() as session:
        await custom_intents.create(session, workspace_id, body, SYSTEM)
    page = await client.get(PAGE, headers=headers)
    assert page.status_code == 200
    assert "<li>When do you open?</li>" in page.text
    assert f'action="{PAGE}' not in page.text
    refused = await client.post(PAGE, data=FORM, headers=headers)
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "track order"}, "Check the name: track_order is a built-in intent"),
        ({"examples": " \r\n "}, "Check the examples"),
        ({"answer": ""}, "Check the answer: an answer is needed unless the intent starts a task"),
        ({"then": "refund_everything"}, "Check what happens after the answer"),
        ({"min_similarity": "2"}, "Check the min similarity"),
        ({"min_similarity": "high"}, "Check the min similarity"),
    ],
)
async def test_a_bad_form_says_what_is_wrong(
    client: httpx.AsyncClient, database: Database, change: dict[str, str], message: str
) -> None:
    workspace_id, headers = await signed_in(database, Role.owner)
    response = await client.post(PAGE, data={**FORM, **change}, headers=headers)
    assert response.status_code == 422
    assert message in response.text
    assert await stored(database, workspace_id) == []


async def test_another_workspaces_intent_cannot_be_changed(
    client: httpx.AsyncClient, database: Database
) -> None:
    theirs, their_headers = await signed_in(database, Role.owner)
    await client.post(PAGE, data=FORM, headers=their_headers)
    async with database.session() as session:
        [intent] = (await custom_intents.listed(session, theirs)).items
    _, headers = await signed_in(database, Role.owner)
    for path in (f"{PAGE}/{intent.id}", f"{PAGE}/{intent.id}/delete"):
        response = await client.post(path, data=FORM, headers=headers)
        assert response.status_code == 404
    assert [item.name for item in await stored(database, theirs)] == ["store_hours"]


def test_the_form_offers_every_task_the_dialogue_runs() -> None:
    assert set(THEN) == {"", HAND_OFF, *TASKS}


async def test_an_intent_that_starts_a_task_needs_no_answer(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.supervisor)
    parcel = {**FORM, "name": "parcel", "answer": "  ", "then": "order_status"}
    assert (await client.post(PAGE, data=parcel, headers=headers)).status_code == 303
    [intent] = await stored(database, workspace_id)
    assert (intent.answer, intent.task, intent.hand_off) == (None, "order_status", False)
    page = await client.get(PAGE, headers=headers)
    assert "then: look up the order&#39;s status" in page.text
    assert '<option value="order_status" selected>' in page.text


async def test_the_page_warns_of_examples_the_built_in_intents_act_on(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await signed_in(database, Role.supervisor)
    parcel = {**FORM, "examples": "Where is my parcel?\nI want a human for my parcel\nParcel?"}
    assert (await client.post(PAGE, data=parcel, headers=headers)).status_code == 303
    page = (await client.get(PAGE, headers=headers)).text  # the fake intents read keywords
    assert (
        "1 example reads as the built-in intent contact_human_agent: the assistant gives such "
        "messages to people before it looks at custom intents." in page
    )
    assert (
        "1 example reads as the built-in intent track_order: messages like it get this intent "
        "instead of the assistant's own task (order status)." in page
    )


async def test_the_page_shows_how_many_messages_took_each_intent(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.agent)
    body = CustomIntentWrite(name="store_hours", examples=["When do you open?"], answer="At 9.")
    async with database.session() as session:
        intent = await custom_intents.create(session, workspace_id, body, SYSTEM)
        days = CustomIntentDayRepository(session, workspace_id)
        for _ in range(3):
            await days.add_match(intent.id, utcnow().date())
        await days.add_match(intent.id, utcnow().date() - timedelta(days=2))
    page = (await client.get(PAGE, headers=headers)).text
    assert "<strong>4</strong> messages took it in the last 30 days (3 today)" in page
    assert 'aria-label="Messages a day, last 30 days: ' + "0, " * 27 + '1, 0, 3"' in page


async def test_answers_in_other_languages_are_written_after_their_code(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.supervisor)
    blocks = "[fr]\r\nOuvert de 9h à 18h.\r\nFermé le dimanche.\r\n\r\n [DE] \r\nGeöffnet.\r\n"
    response = await client.post(PAGE, data={**FORM, "translations": blocks}, headers=headers)
    assert response.status_code == 303
    [intent] = await stored(database, workspace_id)
    assert intent.translations == {
        "de": "Geöffnet.",
        "fr": "Ouvert de 9h à 18h.\nFermé le dimanche.",
    }
    page = (await client.get(PAGE, headers=headers)).text
    assert "(also in de, fr)" in page
    assert (
        "[de]&#10;Geöffnet.&#10;[fr]&#10;Ouvert de 9h à 18h.\nFermé le dimanche.</textarea>" in page
    )


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ("Bonjour", "start each with its language code in brackets"),
        ("[fr]\r\n", "Check the translations"),
        ("[french]\r\nBonjour", "start each with its language code in brackets"),
    ],
)
async def test_a_bad_block_of_languages_says_what_is_wrong(
    client: httpx.AsyncClient, database: Database, blocks: str, message: str
) -> None:
    workspace_id, headers = await signed_in(database, Role.owner)
    response = await client.post(PAGE, data={**FORM, "translations": blocks}, headers=headers)
    assert response.status_code == 422
    assert message in response.text
    assert await stored(database, workspace_id) == []
