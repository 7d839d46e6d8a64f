"""Custom intents under attack: another workspace's ids and missing scopes, concurrent
writes and the limit, the leave-one-out report at its edges, and hostile messages reaching
`relabel`. (Bodies and text: test_custom_intents_probe_inputs.py; the console:
test_custom_intents_probe_console.py.)"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from rapport.assistant import custom_intents as custom_intents_module
from rapport.assistant import replies
from rapport.assistant.custom_intents import custom_intents
from rapport.assistant.schemas import CustomIntentWrite
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Scope
from rapport.support.assistant_desk import MessageLabels
from rapport.worker.runner import Worker
from tests.fixtures.assistant import (
    enable_assistant,
    open_conversation,
    thread,
)
from tests.fixtures.custom_intents import (
    HOURS,
    URL,
    count_intents,
    fake_embedding,  # noqa: F401 (an autouse fixture)
    hold_after_the_name_check,
    names,
    workspace_key,
    workspace_row,
)
from tests.fixtures.identity import bearer, make_api_key, make_workspace

LABELS = MessageLabels("en", "out_of_scope", 0.0, "neutral", 0.0)


# --- Who may call it ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_a_read_only_key_cannot_change_or_delete(
    client: httpx.AsyncClient, database: Database, method: str
) -> None:
    workspace_id, writer = await workspace_key(database)
    intent = (await client.post(URL, json=HOURS, headers=writer)).json()
    reader = bearer(
        await make_api_key(
            database, await workspace_row(database, workspace_id), [Scope.conversations_read]
        )
    )
    body = {**HOURS, "answer": "changed"} if method == "PUT" else None
    response = await client.request(method, f"{URL}/{intent['id']}", json=body, headers=reader)
    assert (response.status_code, response.json()["error"]) == (403, "MissingScope")
    assert (await client.get(f"{URL}/{intent['id']}", headers=writer)).json() == intent


async def test_list_and_report_never_show_another_workspaces_intents(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, theirs = await workspace_key(database)
    secret = {**HOURS, "name": "secret_launch", "examples": ["Project Falcon leak?"] * 1}
    assert (await client.post(URL, json=secret, headers=theirs)).status_code == 201
    _, mine = await workspace_key(database)
    assert (await client.get(URL, headers=mine)).json() == {"items": []}
    assert (await client.get(f"{URL}/report", headers=mine)).json() == {"items": []}


async def test_another_workspaces_id_is_404_without_its_name(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, theirs = await workspace_key(database)
    intent = (
        await client.post(URL, json={**HOURS, "name": "secret_launch"}, headers=theirs)
    ).json()
    _, mine = await workspace_key(database)
    for method in ("GET", "PUT", "DELETE"):
        body = HOURS if method == "PUT" else None
        response = await client.request(method, f"{URL}/{intent['id']}", json=body, headers=mine)
        assert response.json() == {
            "error": "CustomIntentNotFound",
            "detail": "No such custom intent in this workspace.",
        }
    assert (await client.get(f"{URL}/{intent['id']}", headers=theirs)).json() == intent


@pytest.mark.parametrize(
    "path", ["../report", "%2e%2e", "report", "x' OR '1'='1", "0" * 200, "%00"]
)
async def test_odd_ids_are_refused_without_a_500(
    client: httpx.AsyncClient, database: Database, path: str
) -> None:
    _, key = await workspace_key(database)
    for method in ("GET", "PUT", "DELETE"):
        body = HOURS if method == "PUT" else None
        response = await client.request(method, f"{URL}/{path}", json=body, headers=key)
        assert response.status_code in (200, 404, 405, 422), (method, response.text)


# --- Concurrency -------------------------------------------------------------------------


async def test_two_creates_with_one_name_give_201_and_409(
    client: httpx.AsyncClient,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workspace_id, key = await workspace_key(database)
    hold_after_the_name_check(monkeypatch, 2)
    responses = await asyncio.gather(*(client.post(URL, json=HOURS, headers=key) for _ in "ab"))
    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    assert await count_intents(database, workspace_id) == 1


async def test_two_renames_to_one_name_give_200_and_409(
    client: httpx.AsyncClient,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workspace_id, key = await workspace_key(database)
    ids = [
        (await client.post(URL, json={**HOURS, "name": name}, headers=key)).json()["id"]
        for name in ("first_one", "second_one")
    ]
    hold_after_the_name_check(monkeypatch, 2)
    responses = await asyncio.gather(
        *(client.put(f"{URL}/{i}", json={**HOURS, "name": "taken"}, headers=key) for i in ids)
    )
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    assert sorted(await names(database, workspace_id)) in (
        ["first_one", "taken"],
        ["second_one", "taken"],
    )


async def test_concurrent_creates_never_pass_the_limit(
    client: httpx.AsyncClient,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(custom_intents_module, "MAX_INTENTS", 3)
    workspace_id, key = await workspace_key(database)
    hold_after_the_name_check(monkeypatch, 6)
    responses = await asyncio.gather(
        *(client.post(URL, json={**HOURS, "name": f"intent_{n}"}, headers=key) for n in range(6))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 201, 201, 409, 409, 409], [r.text for r in responses]
    assert await count_intents(database, workspace_id) == 3


async def test_concurrent_replace_and_delete_end_consistently(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, key = await workspace_key(database)
    intent = (await client.post(URL, json=HOURS, headers=key)).json()
    path = f"{URL}/{intent['id']}"
    changed = {**HOURS, "answer": "Changed."}
    responses = await asyncio.gather(
        client.put(path, json=changed, headers=key),
        client.delete(path, headers=key),
        client.put(path, json=changed, headers=key),
        client.delete(path, headers=key),
    )
    codes = [r.status_code for r in responses]
    assert all(code in (200, 204, 404) for code in codes), [r.text for r in responses]
    assert codes.count(204) == 1
    assert await count_intents(database, workspace_id) == 0


# --- The limit ---------------------------------------------------------------------------


async def test_a_full_workspace_refuses_one_more_but_changes_and_reports(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, key = await workspace_key(database)
    async with database.session() as session:
        for n in range(custom_intents_module.MAX_INTENTS):
            examples = [f"question {n} wording {k} about topic {n * 7 + k}" for k in range(50)]
            body = CustomIntentWrite(name=f"intent_{n:03d}", examples=examples, answer=f"A{n}.")
            await custom_intents.create(session, workspace_id, body, SYSTEM)
    refused = await client.post(URL, json=HOURS, headers=key)
    assert refused.json() == {
        "error": "TooManyIntents",
        "detail": "A workspace has at most 100 custom intents.",
    }
    listed = (await client.get(URL, headers=key)).json()["items"]
    replaced = await client.put(f"{URL}/{listed[0]['id']}", json=HOURS, headers=key)
    assert replaced.status_code == 200
    report = (await client.get(f"{URL}/report", headers=key)).json()["items"]
    assert len(report) == 100 and sum(row["examples"] for row in report) == 99 * 50 + 2
    assert await count_intents(database, workspace_id) == 100


# --- The report at its edges -------------------------------------------------------------


async def test_the_report_of_one_example_intents_and_all_disabled(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, key = await workspace_key(database)
    one = {**HOURS, "examples": ["When do you open?"]}
    assert (await client.post(URL, json={**one, "enabled": False}, headers=key)).status_code == 201
    assert (await client.get(f"{URL}/report", headers=key)).json() == {"items": []}
    assert (await client.post(URL, json={**one, "name": "twin"}, headers=key)).status_code == 201
    assert (await client.get(f"{URL}/report", headers=key)).json()["items"] == [
        {
            "name": "twin", "examples": 1, "min_similarity": 0.68, "matched": 0, "unmatched": 1,
            "confused_with": {}, "built_in": {},
        }
    ]  # fmt: skip
    other = {**one, "name": "third", "examples": ["When do you open?!"]}
    assert (await client.post(URL, json=other, headers=key)).status_code == 201
    items = (await client.get(f"{URL}/report", headers=key)).json()["items"]
    assert [(row["name"], row["confused_with"]) for row in items] == [
        ("third", {"twin": 1}),
        ("twin", {"third": 1}),
    ]


# --- Hostile messages reaching relabel ---------------------------------------------------

HOSTILE = [
    "",
    " \t\n ",
    "😀🎉🙈" * 50,
    "\u0000\u0001\u0002",
    "\ud800 when do you open \udfff",
    "\u202e\u200b" * 1000,
    "when do you open " * 6_000,  # about 100 KB
    bytes(range(256)).decode("latin-1") * 400,
    "🏳️‍🌈" * 10_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
async def test_relabel_never_raises_on_hostile_text(database: Database, text: str) -> None:
    workspace = await make_workspace(database)
    body = CustomIntentWrite(name="store_hours", examples=["when do you open"], answer="At 9.")
    async with database.session() as session:
        await custom_intents.create(session, workspace.id, body, SYSTEM)
    labels, answer = await custom_intents.relabel(database.engine, workspace.id, text, LABELS)
    assert (labels.intent, answer is None) in (
        ("out_of_scope", True),
        ("store_hours", False),
    )


@pytest.mark.parametrize(
    "text",
    ["😀😀😀", "when do you open? " * 550, "¿Cuándo abren? 漢字 \u202e reversed", "ok\u200b"],
    ids=["emoji", "10k", "mixed", "zero-width"],
)
async def test_a_hostile_message_still_gets_a_turn(database: Database, text: str) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    body = CustomIntentWrite(name="store_hours", examples=["when do you open"], answer="At 9.")
    async with database.session() as session:
        await custom_intents.create(session, workspace.id, body, SYSTEM)
    conversation_id = await open_conversation(database, workspace.id, text[:10_000])
    await Worker(database, concurrency=1).run_pending()
    messages = await thread(database, conversation_id)
    assert len(messages) == 2 and messages[1][0] == "assistant"
    assert messages[1][2] in ("At 9.", replies.ENGLISH.clarify, replies.ENGLISH.handing_off)
