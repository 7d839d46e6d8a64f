"""Custom intents under attack, the bodies: oversized, malformed and oddly encoded ones,
markup in answers and examples, and names that collide."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from rapport.assistant.custom_intents import custom_intents
from rapport.assistant.schemas import CustomIntentWrite
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role
from rapport.worker.runner import Worker
from tests.fixtures.assistant import (
    conversation_row,
    enable_assistant,
    open_conversation,
    thread,
)
from tests.fixtures.custom_intents import (
    FORM,
    HOURS,
    PAGE,
    URL,
    count_intents,
    fake_embedding,  # noqa: F401 (an autouse fixture)
    names,
    signed_in,
    workspace_key,
)
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in


def raw_json(text: str, headers: dict[str, str]) -> dict[str, Any]:
    return {"content": text.encode(), "headers": {**headers, "content-type": "application/json"}}


# --- Oversized and malformed bodies ------------------------------------------------------


async def test_a_10_mb_body_is_413(client: httpx.AsyncClient, database: Database) -> None:
    _, key = await workspace_key(database)
    body = json.dumps({**HOURS, "answer": "x" * 10_000_000})
    response = await client.post(URL, **raw_json(body, key))
    assert (response.status_code, response.json()["error"]) == (413, "PayloadTooLarge")


async def test_a_10_mb_chunked_body_without_a_length_is_413(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, key = await workspace_key(database)

    async def chunks() -> Any:
        yield b'{"name": "store_hours", "answer": "'
        for _ in range(100):
            yield b"x" * 100_000
        yield b'", "examples": ["hi there"]}'

    headers = {**key, "content-type": "application/json"}
    response = await client.post(URL, content=chunks(), headers=headers)
    assert (response.status_code, response.json()["error"]) == (413, "PayloadTooLarge")


async def test_fifty_examples_of_300_multibyte_characters_are_kept_exactly(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, key = await workspace_key(database)
    examples = [f"{n:02d}" + "漢😀é"[n % 3] * 298 for n in range(50)]
    body = {**HOURS, "examples": examples, "answer": "😀" * 2000}
    created = await client.post(URL, json=body, headers=key)
    assert created.status_code == 201, created.text
    assert (created.json()["examples"], created.json()["answer"]) == (examples, "😀" * 2000)
    assert (await client.get(f"{URL}/report", headers=key)).status_code == 200


async def test_deeply_nested_json_is_400(client: httpx.AsyncClient, database: Database) -> None:
    _, key = await workspace_key(database)
    depth = 100_000
    body = '{"name": "store_hours", "answer": "a", "examples": ' + "[" * depth + "]" * depth + "}"
    response = await client.post(URL, **raw_json(body, key))
    assert response.json() == {
        "error": "BadRequest",
        "detail": "There was an error parsing the body",
    }


@pytest.mark.parametrize(
    "raw",
    [
        '{"name": "store_hours", "examples": {"a": "hi"}, "answer": "a"}',
        '{"name": "store_hours", "examples": [1, 2], "answer": "a"}',
        '{"name": "store_hours", "examples": null, "answer": "a"}',
        '{"name": "store_hours", "examples": [null], "answer": "a"}',
        '{"name": "store_hours", "examples": [["hi"]], "answer": "a"}',
        '{"name": "store_hours", "examples": [true], "answer": "a"}',
        '{"name": null, "examples": ["hi"], "answer": "a"}',
        '{"name": ["store_hours"], "examples": ["hi"], "answer": "a"}',
        '{"name": "store_hours", "examples": ["hi"], "answer": 42}',
        '{"name": "store_hours", "examples": ["hi"], "answer": {"text": "a"}}',
        '{"name": "store_hours", "examples": ["hi"], "answer": "a", "min_similarity": NaN}',
        '{"name": "store_hours", "examples": ["hi"], "answer": "a", "min_similarity": Infinity}',
        '{"name": "store_hours", "examples": ["hi"], "answer": "a", "min_similarity": -Infinity}',
        '{"name": "store_hours", "examples": ["hi"], "answer": "a", "min_similarity": 1e400}',
        '{"name": "store_hours", "examples": ["hi"], "answer": "a", "min_similarity": "NaN"}',
        '{"name": "store_hours", "examples": ["hi"], "answer": "a", "min_similarity": "inf"}',
        '{"name": "store_hours", "examples": ["hi"], "answer": "a", "min_similarity": true}',
        '{"name": "store_hours", "examples": ["hi"], "answer": "a", "min_similarity": null}',
        '{"name": "store_hours", "examples": ["hi"], "answer": "a", "enabled": null}',
        '{"name": "store_hours", "examples": ["hi"], "answer": "a", "enabled": 2}',
        '{"name": "store_hours", "examples": ["hi"], "answer": "a", "hand_off": "maybe"}',
        '{"name": "store_hours", "examples": ["hi"], "answer": "a", "hand_off": null}',
        "[]",
        "null",
        '"store_hours"',
        "42",
        "{}",
        '{"name": "store_hours", "examples": ["hi"], "answer": "a"',
        "\ufeff{}",
    ],
)
async def test_wrong_types_are_422_never_500(
    client: httpx.AsyncClient, database: Database, raw: str
) -> None:
    workspace_id, key = await workspace_key(database)
    response = await client.post(URL, **raw_json(raw, key))
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"] in ("BadRequest", "ValidationError")
    assert await count_intents(database, workspace_id) == 0


@pytest.mark.parametrize(
    ("field", "value", "kept"),
    [
        ("min_similarity", "0.5", 0.5),
        ("enabled", "yes", True),
        ("enabled", 0, False),
        ("hand_off", "on", True),
    ],
)
async def test_lax_scalars_are_coerced_as_documented(
    client: httpx.AsyncClient, database: Database, field: str, value: object, kept: object
) -> None:
    _, key = await workspace_key(database)
    created = await client.post(URL, json={**HOURS, field: value}, headers=key)
    assert (created.status_code, created.json()[field]) == (201, kept)


async def test_a_form_encoded_body_on_the_api_is_422(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, key = await workspace_key(database)
    response = await client.post(URL, data=FORM, headers=key)
    assert (response.status_code, response.json()["error"]) == (422, "ValidationError")
    assert await count_intents(database, workspace_id) == 0


# --- Unicode oddities --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "store\u200b_hours",  # zero-width space
        "st\u043ere_hours",  # Cyrillic o
        "\u202estore_hours",  # right-to-left override
        "store_hours\u0000",
        "\uff53tore_hours",  # fullwidth s
        "store_hours\ud800",
        "\u017ftore_hours",  # long s
        "\u212aey_hours",  # Kelvin sign (lower() makes it k)
    ],
)
async def test_a_name_with_unicode_tricks_is_422(
    client: httpx.AsyncClient, database: Database, name: str
) -> None:
    workspace_id, key = await workspace_key(database)
    body = json.dumps({**HOURS, "name": name})  # ASCII escapes: \ud800 reaches the parser
    response = await client.post(URL, **raw_json(body, key))
    assert (response.status_code, response.json()["error"]) == (422, "ValidationError")
    assert await count_intents(database, workspace_id) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("examples", ["When do you open?\u0000"]),
        ("answer", "At nine.\u0000"),
        ("examples", ["When do you open?\u001b[31m"]),
        ("answer", "At nine.\u001b]8;;https://evil.example\u0007"),
        ("answer", "At nine.\u007f"),
    ],
)
async def test_nul_and_control_characters_are_422(
    client: httpx.AsyncClient, database: Database, field: str, value: object
) -> None:
    workspace_id, key = await workspace_key(database)
    response = await client.post(URL, **raw_json(json.dumps({**HOURS, field: value}), key))
    assert (response.status_code, response.json()["error"]) == (422, "ValidationError")
    assert field in response.json()["detail"]
    assert await count_intents(database, workspace_id) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("examples", ["When do you open?\ud800"]), ("answer", "At nine.\udfff")],
)
async def test_a_lone_surrogate_is_422_not_500(
    client: httpx.AsyncClient, database: Database, field: str, value: object
) -> None:
    workspace_id, key = await workspace_key(database)
    response = await client.post(URL, **raw_json(json.dumps({**HOURS, field: value}), key))
    assert (response.status_code, response.json()["error"]) == (422, "ValidationError")
    assert "unable to parse raw data as a unicode string" in response.json()["detail"]
    assert await count_intents(database, workspace_id) == 0


@pytest.mark.parametrize("example", ["\u200b", "\u200b\u200c\u200d\u2060", "\u202e\u2066"])
async def test_an_invisible_example_is_422(
    client: httpx.AsyncClient, database: Database, example: str
) -> None:
    _, key = await workspace_key(database)
    body = {**HOURS, "examples": [*HOURS["examples"], example]}
    response = await client.post(URL, json=body, headers=key)
    assert response.status_code == 422, response.text


async def test_bidi_characters_in_the_answer_are_kept_and_c1_controls_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, key = await workspace_key(database)
    answer = "Open \u202eevil\u202c at 9.\u2028Closed \u2029Sundays."
    created = await client.post(URL, json={**HOURS, "answer": answer}, headers=key)
    assert created.status_code == 201, created.text
    # The answer validator splits on every Unicode line break (LS, PS too) and joins with \n.
    assert created.json()["answer"] == "Open \u202eevil\u202c at 9.\nClosed\nSundays."
    for c1 in ("\u0085", "\u009b"):  # C1 controls, NEL among them
        body = {**HOURS, "name": "other", "answer": f"Open.{c1}Closed."}
        refused = await client.post(URL, json=body, headers=key)
        assert (refused.status_code, refused.json()["problems"][0]["location"]) == (
            422,
            ["body", "answer"],
        )


# --- Markup in answers and examples ------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '</textarea><img src=x onerror="alert(2)">'


@pytest.mark.parametrize("role", [Role.supervisor, Role.agent])
async def test_markup_is_escaped_on_the_console_page(
    client: httpx.AsyncClient, database: Database, role: Role
) -> None:
    workspace_id, headers = await signed_in(database, role)
    body = CustomIntentWrite(
        name="store_hours", examples=[BREAKOUT, f"when {SCRIPT}"], answer=f"{SCRIPT}{BREAKOUT}"
    )
    async with database.session() as session:
        await custom_intents.create(session, workspace_id, body, SYSTEM)
    page = await client.get(PAGE, headers=headers)
    assert page.status_code == 200
    assert SCRIPT not in page.text and BREAKOUT not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&lt;/textarea&gt;&lt;img src=x onerror=" in page.text


async def test_the_assistant_sends_the_answer_as_text_and_the_inbox_escapes_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    answer = f"Hours: {SCRIPT}"
    body = CustomIntentWrite(name="store_hours", examples=["when are you open"], answer=answer)
    async with database.session() as session:
        await custom_intents.create(session, workspace.id, body, SYSTEM)
    conversation_id = await open_conversation(database, workspace.id, "when are you open")
    await Worker(database, concurrency=1).run_pending()
    # Stored as typed (the widget draws bodies with textContent) ...
    assert (await thread(database, conversation_id))[1] == ("assistant", False, answer)
    # ... and the agents' inbox escapes it.
    staff = await make_staff(database, workspace, Role.agent)
    headers = session_headers((await sign_in(database, staff)).token)
    page = await client.get(f"/console/inbox/conversations/{conversation_id}", headers=headers)
    assert page.status_code == 200
    assert SCRIPT not in page.text and "Hours: &lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_a_hand_off_intent_answers_then_hands_off_hostile_text_too(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    body = CustomIntentWrite(
        name="wholesale",
        examples=["wholesale prices 😀"],
        answer="Sales will write.",
        hand_off=True,
    )
    async with database.session() as session:
        await custom_intents.create(session, workspace.id, body, SYSTEM)
    conversation_id = await open_conversation(database, workspace.id, "wholesale\u200b prices 😀")
    await Worker(database, concurrency=1).run_pending()
    assert (await thread(database, conversation_id))[1] == ("assistant", False, "Sales will write.")
    assert (await conversation_row(database, conversation_id)).status == "open"


# --- Names that collide ------------------------------------------------------------------


async def test_console_names_that_normalise_alike_collide_with_409(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.supervisor)
    assert (await client.post(PAGE, data=FORM, headers=headers)).status_code == 303
    for name in ("store-hours", "  STORE HOURS ", "Store_Hours", "store hours"):
        response = await client.post(PAGE, data={**FORM, "name": name}, headers=headers)
        assert response.status_code == 409, name
        assert "Another custom intent is already named store_hours." in response.text
    # str.lower() turns the Kelvin sign into an ASCII k: it collides like any other spelling.
    assert (
        await client.post(PAGE, data={**FORM, "name": "key"}, headers=headers)
    ).status_code == 303
    kelvin = await client.post(PAGE, data={**FORM, "name": "\u212aEY"}, headers=headers)
    assert kelvin.status_code == 409 and "already named key." in kelvin.text
    assert await names(database, workspace_id) == ["key", "store_hours"]


async def test_api_names_that_strip_alike_collide_with_409(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, key = await workspace_key(database)
    assert (await client.post(URL, json=HOURS, headers=key)).status_code == 201
    for name in (" store_hours", "store_hours\n", "\tstore_hours "):
        response = await client.post(URL, json={**HOURS, "name": name}, headers=key)
        assert (response.status_code, response.json()["error"]) == (409, "IntentNameTaken")


async def test_the_console_refuses_a_built_in_name_in_disguise(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.supervisor)
    for name in ("Track-Order", "OUT OF SCOPE", "contact human agent"):
        response = await client.post(PAGE, data={**FORM, "name": name}, headers=headers)
        assert response.status_code == 422, name
        assert "is a built-in intent" in response.text
    assert await count_intents(database, workspace_id) == 0
