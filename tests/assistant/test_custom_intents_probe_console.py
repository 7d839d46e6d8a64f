"""Custom intents under attack in the console: CSRF, scopes, other workspaces, replays,
sign-out, and bad forms."""

from __future__ import annotations

import httpx
import pytest

from rapport.assistant.custom_intents import custom_intents
from rapport.core.csrf import CSRF_HEADER
from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.identity.sessions import sign_ins
from tests.fixtures.custom_intents import (
    FORM,
    PAGE,
    count_intents,
    fake_embedding,  # noqa: F401 (an autouse fixture)
    names,
    signed_in,
    workspace_row,
)
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in

# --- The console: CSRF, scopes, other workspaces, replays, limits ------------------------


async def _one_console_intent(
    client: httpx.AsyncClient, database: Database, workspace_id: str, headers: dict[str, str]
) -> str:
    assert (await client.post(PAGE, data=FORM, headers=headers)).status_code == 303
    async with database.session() as session:
        [intent] = (await custom_intents.listed(session, workspace_id)).items
    return intent.id


@pytest.mark.parametrize("target", ["create", "replace", "delete"])
async def test_console_posts_without_csrf_are_403(
    client: httpx.AsyncClient, database: Database, target: str
) -> None:
    workspace_id, headers = await signed_in(database, Role.owner)
    intent_id = await _one_console_intent(client, database, workspace_id, headers)
    path = {
        "create": PAGE,
        "replace": f"{PAGE}/{intent_id}",
        "delete": f"{PAGE}/{intent_id}/delete",
    }[target]
    form = {**FORM, "name": "gift_wrap", "answer": "Forged."}
    _, other = await signed_in(database, Role.owner)
    for forged in (
        {"Cookie": headers["Cookie"]},
        {"Cookie": headers["Cookie"], CSRF_HEADER: "forged"},
        {"Cookie": headers["Cookie"], CSRF_HEADER: other[CSRF_HEADER]},
    ):
        response = await client.post(path, data=form, headers=forged)
        assert response.status_code == 403, response.text
        assert "This form has expired or did not come from Rapport." in response.text
    async with database.session() as session:
        [intent] = (await custom_intents.listed(session, workspace_id)).items
    assert (intent.name, intent.answer) == ("store_hours", FORM["answer"])


async def test_the_csrf_token_in_the_form_field_is_accepted(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.owner)
    form = {**FORM, "csrf_token": headers[CSRF_HEADER]}
    response = await client.post(PAGE, data=form, headers={"Cookie": headers["Cookie"]})
    assert response.status_code == 303
    assert await names(database, workspace_id) == ["store_hours"]


async def test_an_agent_cannot_change_or_delete_from_the_console(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, owner = await signed_in(database, Role.owner)
    intent_id = await _one_console_intent(client, database, workspace_id, owner)
    agent = await make_staff(database, await workspace_row(database, workspace_id), Role.agent)
    headers = session_headers((await sign_in(database, agent)).token)
    for path in (f"{PAGE}/{intent_id}", f"{PAGE}/{intent_id}/delete"):
        response = await client.post(path, data={**FORM, "answer": "Agent."}, headers=headers)
        assert response.status_code == 403
    assert await names(database, workspace_id) == ["store_hours"]


async def test_the_console_page_shows_only_the_own_workspace(
    client: httpx.AsyncClient, database: Database
) -> None:
    theirs, their_headers = await signed_in(database, Role.owner)
    secret = {**FORM, "name": "secret launch", "examples": "Project Falcon?", "answer": "Soon."}
    await _one_console_intent(client, database, theirs, {**their_headers})
    assert (await client.post(PAGE, data=secret, headers=their_headers)).status_code == 303
    _, headers = await signed_in(database, Role.owner)
    page = await client.get(PAGE, headers=headers)
    assert page.status_code == 200 and "No custom intents yet." in page.text
    assert "secret_launch" not in page.text and "Falcon" not in page.text


async def test_replayed_console_posts_change_nothing_twice(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.owner)
    intent_id = await _one_console_intent(client, database, workspace_id, headers)
    again = await client.post(PAGE, data=FORM, headers=headers)
    assert again.status_code == 409
    delete = f"{PAGE}/{intent_id}/delete"
    assert (await client.post(delete, data={}, headers=headers)).status_code == 303
    replayed = await client.post(delete, data={}, headers=headers)
    assert replayed.status_code == 404 and "No such custom intent" in replayed.text
    stale = await client.post(f"{PAGE}/{intent_id}", data=FORM, headers=headers)
    assert stale.status_code == 404
    assert await count_intents(database, workspace_id) == 0


async def test_a_form_after_sign_out_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    staff = await make_staff(database, workspace, Role.owner)
    signed = await sign_in(database, staff)
    headers = session_headers(signed.token)
    async with database.session() as session:
        await sign_ins.sign_out(session, signed.token)
    response = await client.post(PAGE, data=FORM, headers=headers)
    assert response.status_code in (303, 401, 403)
    assert await count_intents(database, workspace.id) == 0


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"examples": "x" * 20_001}, 422, "Check the examples field"),
        ({"answer": "x" * 4_001}, 422, "Check the answer field"),
        ({"name": "n" * 101}, 422, "Check the name field"),
        ({"examples": "\n".join(f"question {n}" for n in range(51))}, 422, "Check the examples"),
        ({"min_similarity": "nan"}, 422, "Check the min similarity"),
        ({"min_similarity": "inf"}, 422, "Check the min similarity"),
        ({"min_similarity": "1e999"}, 422, "Check the min similarity"),
        ({"min_similarity": "0x1p-1"}, 422, "Check the min similarity"),
        ({"answer": "x\u0000y"}, 422, "Check the answer"),
        ({"examples": "when\u0000 do you open"}, 422, "Check the examples"),
        ({"answer": "x" * 300_000}, 413, "may not exceed 256 KB"),
    ],
)
async def test_a_bad_console_form_is_a_4xx_page(
    client: httpx.AsyncClient,
    database: Database,
    change: dict[str, str],
    status: int,
    message: str,
) -> None:
    workspace_id, headers = await signed_in(database, Role.owner)
    response = await client.post(PAGE, data={**FORM, **change}, headers=headers)
    assert response.status_code == status, response.text[:500]
    assert message in response.text
    assert await count_intents(database, workspace_id) == 0


async def test_console_lines_split_on_unicode_line_breaks(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await signed_in(database, Role.owner)
    form = {**FORM, "examples": "When do you open?\u2028Hours?\u0085Open now?\u000bSunday?"}
    assert (await client.post(PAGE, data=form, headers=headers)).status_code == 303
    async with database.session() as session:
        [intent] = (await custom_intents.listed(session, workspace_id)).items
    assert intent.examples == ["When do you open?", "Hours?", "Open now?", "Sunday?"]
