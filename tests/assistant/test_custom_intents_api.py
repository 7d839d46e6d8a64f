"""The custom intents API: what is kept, bad input, names and limits, who may call it, the
audit trail, and the leave-one-out check."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from rapport.assistant import custom_intents
from rapport.assistant.labels import use_models
from rapport.core.db import Database
from rapport.identity.enums import Scope
from rapport.identity.models import AuditEvent
from tests.fixtures.authorization import Case, call_case, case_name
from tests.fixtures.custom_intents import (
    HOURS,
    URL,
    fake_embedding,  # noqa: F401 (an autouse fixture)
    workspace_key,
)
from tests.fixtures.embedding import embedding_with, minilm_embedder
from tests.fixtures.identity import bearer, make_api_key, make_workspace

READ, ASSIGN = Scope.conversations_read, Scope.conversations_assign
CASES = [
    Case("GET", URL, READ),
    Case("POST", URL, ASSIGN, ok=201, json=HOURS),
    Case("GET", f"{URL}/report", READ),
    Case("GET", f"{URL}/matches", READ),
]


async def key_of(database: Database) -> dict[str, str]:
    return (await workspace_key(database))[1]


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


async def test_an_intent_is_kept_read_replaced_and_deleted(
    client: httpx.AsyncClient, database: Database
) -> None:
    key = await key_of(database)
    created = await client.post(URL, json=HOURS, headers=key)
    assert created.status_code == 201, created.text
    intent = created.json()
    assert {name: intent[name] for name in HOURS} == HOURS
    assert (intent["enabled"], intent["hand_off"], intent["min_similarity"]) == (True, False, 0.68)
    assert (await client.get(f"{URL}/{intent['id']}", headers=key)).json() == intent
    changed = {
        **HOURS, "answer": "Open every day, 8:00-20:00.", "enabled": False, "hand_off": True,
        "min_similarity": 0.6,
    }  # fmt: skip
    replaced = await client.put(f"{URL}/{intent['id']}", json=changed, headers=key)
    assert {name: replaced.json()[name] for name in changed} == changed
    listed = (await client.get(URL, headers=key)).json()
    assert [item["id"] for item in listed["items"]] == [intent["id"]]
    assert (await client.delete(f"{URL}/{intent['id']}", headers=key)).status_code == 204
    assert (await client.get(URL, headers=key)).json()["items"] == []


async def test_examples_are_one_line_each_and_repeats_dropped(
    client: httpx.AsyncClient, database: Database
) -> None:
    key = await key_of(database)
    body = {**HOURS, "examples": ["  When do\tyou open? ", "when do you OPEN?", "Hours?"]}
    created = await client.post(URL, json=body, headers=key)
    assert created.json()["examples"] == ["When do you open?", "Hours?"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "track_order"}, "name"),  # a built-in intent
        ({"name": "Store hours"}, "name"),
        ({"name": "x"}, "name"),
        ({"name": "a" * 49}, "name"),
        ({"name": 7}, "name"),
        ({"examples": []}, "examples"),
        ({"examples": "What are your hours?"}, "examples"),
        ({"examples": [f"question {n}" for n in range(51)]}, "examples"),
        ({"examples": ["x" * 301]}, "examples"),
        ({"examples": ["   "]}, "examples"),
        ({"examples": ["bad\x00byte"]}, "examples"),
        ({"answer": ""}, "answer"),
        ({"answer": "x" * 2001}, "answer"),
        ({"answer": "bell\x07"}, "answer"),
        ({"enabled": "sometimes"}, "enabled"),
        ({"hand_off": "later"}, "hand_off"),
        ({"task": "refund_everything"}, "task"),
        ({"translations": {"fr-CA": "Bonjour"}}, "translations"),
        ({"translations": {"f": "Bonjour"}}, "translations"),
        ({"translations": {"french": "Bonjour"}}, "translations"),
        ({"translations": {"fr": ""}}, "translations"),
        ({"translations": {"fr": "\u200b"}}, "translations"),
        ({"translations": {"fr": "x" * 2001}}, "translations"),
        ({"translations": {"fr": 7}}, "translations"),
        ({"translations": ["fr", "Bonjour"]}, "translations"),
        (
            {"translations": {f"a{chr(97 + n // 26)}{chr(97 + n % 26)}": "x" for n in range(31)}},
            "translations",
        ),
        ({"task": 3}, "task"),
        ({"task": ["order_status"]}, "task"),
        ({"min_similarity": 0.1}, "min_similarity"),
        ({"min_similarity": 1.5}, "min_similarity"),
        ({"min_similarity": "high"}, "min_similarity"),
    ],
)
async def test_bad_input_is_422_and_names_the_field(
    client: httpx.AsyncClient, database: Database, change: dict[str, object], field: str
) -> None:
    response = await client.post(URL, json={**HOURS, **change}, headers=await key_of(database))
    assert response.status_code == 422, response.text
    assert field in response.text


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"answer": None}, "an answer is needed unless the intent starts a task"),
        ({"answer": None, "hand_off": True}, "an answer is needed unless the intent starts a task"),
        ({"task": "cancel_order", "hand_off": True}, "cannot also hand off: pick one"),
    ],
)
async def test_an_intent_must_do_one_thing_after_a_match(
    client: httpx.AsyncClient, database: Database, change: dict[str, object], reason: str
) -> None:
    response = await client.post(URL, json={**HOURS, **change}, headers=await key_of(database))
    assert response.status_code == 422, response.text
    assert reason in response.text


async def test_an_intent_may_start_a_task_with_or_without_words_of_its_own(
    client: httpx.AsyncClient, database: Database
) -> None:
    key = await key_of(database)
    parcel = {"name": "parcel", "examples": ["Has my parcel left?"], "task": "order_status"}
    created = await client.post(URL, json=parcel, headers=key)
    assert created.status_code == 201, created.text
    assert {name: created.json()[name] for name in ("answer", "task", "hand_off")} == {
        "answer": None, "task": "order_status", "hand_off": False,
    }  # fmt: skip
    said = {**parcel, "answer": "Let me look.", "task": "request_return"}
    replaced = await client.put(f"{URL}/{created.json()['id']}", json=said, headers=key)
    assert (replaced.json()["answer"], replaced.json()["task"]) == (
        "Let me look.",
        "request_return",
    )


async def test_a_built_in_name_is_refused_with_a_reason(
    client: httpx.AsyncClient, database: Database
) -> None:
    body = {**HOURS, "name": "cancel_order"}
    response = await client.post(URL, json=body, headers=await key_of(database))
    assert "cancel_order is a built-in intent; pick another name" in response.text


async def test_a_name_is_unique_in_a_workspace_only(
    client: httpx.AsyncClient, database: Database
) -> None:
    key, other = await key_of(database), await key_of(database)
    first = (await client.post(URL, json=HOURS, headers=key)).json()
    again = await client.post(URL, json=HOURS, headers=key)
    assert (again.status_code, again.json()["error"]) == (409, "IntentNameTaken")
    assert (await client.post(URL, json=HOURS, headers=other)).status_code == 201
    second = (await client.post(URL, json={**HOURS, "name": "gift_wrap"}, headers=key)).json()
    renamed = await client.put(f"{URL}/{second['id']}", json=HOURS, headers=key)
    assert (renamed.status_code, renamed.json()["error"]) == (409, "IntentNameTaken")
    assert (await client.put(f"{URL}/{first['id']}", json=HOURS, headers=key)).status_code == 200


async def test_a_workspace_has_at_most_so_many(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(custom_intents, "MAX_INTENTS", 2)
    key = await key_of(database)
    for name in ("store_hours", "gift_wrap"):
        assert (
            await client.post(URL, json={**HOURS, "name": name}, headers=key)
        ).status_code == 201
    refused = await client.post(URL, json={**HOURS, "name": "loyalty_card"}, headers=key)
    assert (refused.status_code, refused.json()["error"]) == (409, "TooManyIntents")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_another_workspaces_intent_is_404(
    client: httpx.AsyncClient, database: Database, method: str
) -> None:
    mine, theirs = await key_of(database), await key_of(database)
    intent = (await client.post(URL, json=HOURS, headers=theirs)).json()
    body = HOURS if method == "PUT" else None
    response = await client.request(method, f"{URL}/{intent['id']}", json=body, headers=mine)
    assert (response.status_code, response.json()["error"]) == (404, "CustomIntentNotFound")
    assert (await client.get(f"{URL}/{intent['id']}", headers=theirs)).json() == intent


async def test_a_malformed_id_is_422(client: httpx.AsyncClient, database: Database) -> None:
    response = await client.get(f"{URL}/not-an-id", headers=await key_of(database))
    assert response.status_code == 422


async def test_every_change_is_audited(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    key = bearer(await make_api_key(database, workspace))
    intent = (await client.post(URL, json=HOURS, headers=key)).json()
    changed = {**HOURS, "name": "hours", "task": "order_status"}
    await client.put(f"{URL}/{intent['id']}", json=changed, headers=key)
    await client.delete(f"{URL}/{intent['id']}", headers=key)
    async with database.session() as session:
        rows = (
            await session.execute(
                select(AuditEvent).where(AuditEvent.workspace_id == workspace.id)
                .where(AuditEvent.action.like("assistant.intent_%")).order_by(AuditEvent.seq)
            )
        ).scalars().all()  # fmt: skip
    assert [(row.action, row.target_id, row.details) for row in rows] == [
        (
            "assistant.intent_created",
            intent["id"],
            {"name": "store_hours", "examples": 2, "task": None},
        ),
        (
            "assistant.intent_changed",
            intent["id"],
            {"name": "hours", "examples": 2, "task": "order_status"},
        ),
        (
            "assistant.intent_deleted",
            intent["id"],
            {"name": "hours", "examples": 2, "task": "order_status"},
        ),
    ]


async def test_the_report_counts_each_example_left_out(
    client: httpx.AsyncClient, database: Database
) -> None:
    key = await key_of(database)
    wrap = {
        "name": "gift_wrap",
        "examples": ["Do you offer gift wrapping?", "Can you gift wrap my order?"],
        "answer": "Yes: tick 'gift wrap' at checkout.",
    }
    hours = {**HOURS, "examples": [*HOURS["examples"], "What time do you open?"]}
    with embedding_with(minilm_embedder()):
        for body in (hours, {**wrap, "min_similarity": 0.95}):
            assert (await client.post(URL, json=body, headers=key)).status_code == 201
        await client.post(URL, json={**wrap, "name": "off_one", "enabled": False}, headers=key)
        report = (await client.get(f"{URL}/report", headers=key)).json()
    assert report == {
        "items": [
            {
                "name": "gift_wrap", "examples": 2, "min_similarity": 0.95, "matched": 0,
                "unmatched": 2, "confused_with": {}, "built_in": {},
            },
            {
                "name": "store_hours", "examples": 3, "min_similarity": 0.68, "matched": 3,
                "unmatched": 0, "confused_with": {}, "built_in": {},
            },
        ],
    }  # fmt: skip


async def test_the_report_of_a_workspace_without_intents_is_empty(
    client: httpx.AsyncClient, database: Database
) -> None:
    report = await client.get(f"{URL}/report", headers=await key_of(database))
    assert report.json() == {"items": []}


async def test_the_report_names_examples_the_shipped_intents_act_on(
    client: httpx.AsyncClient, database: Database
) -> None:
    key = await key_of(database)  # the fake intents read "where" as track_order
    parcel = {
        "name": "parcel",
        "examples": ["Where is my parcel?", "Has my parcel left?", "I complain: no parcel"],
        "answer": "Parcels leave within a day.",
    }
    assert (await client.post(URL, json=parcel, headers=key)).status_code == 201
    report = (await client.get(f"{URL}/report", headers=key)).json()
    assert report["items"][0]["built_in"] == {"complaint": 1, "track_order": 1}
    [intent] = (await client.get(URL, headers=key)).json()["items"]
    tracked = {**parcel, "task": "order_status"}  # the same task as track_order: fine
    assert (await client.put(f"{URL}/{intent['id']}", json=tracked, headers=key)).is_success
    report = (await client.get(f"{URL}/report", headers=key)).json()
    assert report["items"][0]["built_in"] == {"complaint": 1}


async def test_the_report_reads_examples_with_the_shipped_model(
    client: httpx.AsyncClient, database: Database
) -> None:
    key = await key_of(database)
    use_models(None)  # the shipped intent model, over MiniLM
    parcel = {
        "name": "parcel",
        "examples": ["Where is my order?", "I want to track my order", "Is gift wrap free?"],
        "answer": "Parcels leave within a day.",
    }
    with embedding_with(minilm_embedder()):
        assert (await client.post(URL, json=parcel, headers=key)).status_code == 201
        report = (await client.get(f"{URL}/report", headers=key)).json()
    assert report["items"][0]["built_in"] == {"track_order": 2}


@pytest.mark.parametrize("days", ["0", "367", "x", "1.5", "-1"])
async def test_a_bad_window_of_counts_is_422(
    client: httpx.AsyncClient, database: Database, days: str
) -> None:
    response = await client.get(f"{URL}/matches?days={days}", headers=await key_of(database))
    assert response.status_code == 422 and "days" in response.text


async def test_counts_list_every_intent_of_the_workspace_only(
    client: httpx.AsyncClient, database: Database
) -> None:
    mine, theirs = await key_of(database), await key_of(database)
    await client.post(URL, json={**HOURS, "name": "theirs"}, headers=theirs)
    created = (await client.post(URL, json=HOURS, headers=mine)).json()
    report = (await client.get(f"{URL}/matches?days=7", headers=mine)).json()
    [counted] = report["items"]
    assert (counted["intent_id"], counted["name"], counted["total"]) == (
        created["id"], "store_hours", 0,
    )  # fmt: skip
    assert [point["matches"] for point in counted["days"]] == [0] * 7
    assert counted["days"][-1]["day"] == report["last_day"]


async def test_answers_in_other_languages_are_kept_by_language_code(
    client: httpx.AsyncClient, database: Database
) -> None:
    key = await key_of(database)
    body = {**HOURS, "translations": {"FR": "Ouvert de 9h à 18h.  ", "de": "Geöffnet."}}
    created = await client.post(URL, json=body, headers=key)
    assert created.status_code == 201, created.text
    assert created.json()["translations"] == {"de": "Geöffnet.", "fr": "Ouvert de 9h à 18h."}
    task_only = {"name": "parcel", "examples": ["Has it left?"], "task": "order_status"}
    refused = await client.post(
        URL, json={**task_only, "translations": {"fr": "Voyons."}}, headers=key
    )
    assert refused.status_code == 422
    assert "answers in other languages need the answer for every other one" in refused.text
