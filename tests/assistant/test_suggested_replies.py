"""Agent assist: replies suggested for a conversation's last customer message, from earlier
answers in the workspace, its canned responses and its knowledge base; read like the
conversation itself (scopes, team limits, another workspace's ids), never another
workspace's text, and no connection held while the model runs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import httpx
import pytest

from rapport.core.db import Database
from rapport.identity.enums import Role, Scope
from rapport.knowledge.embedding import use_embedder
from rapport.nlp.ports import Embedder, Vectors
from rapport.support.enums import MessageKind
from rapport.support.schemas import MessageCreate
from rapport.support.service import conversations
from rapport.support.teams import teams
from tests.fixtures.agent_tools import make_canned_response
from tests.fixtures.embedding import installed_minilm_embedder
from tests.fixtures.identity import (
    bearer,
    console_sign_in,
    make_api_key,
    make_staff,
    make_workspace,
)
from tests.fixtures.knowledge import make_article, make_product_sheet
from tests.fixtures.sessions import session_headers, sign_in
from tests.fixtures.support import SYSTEM_ACTING, make_conversation, make_team

SHIPPING_Q = "How long does delivery to Germany take?"
SHIPPING_A = "Hi Ana, we ship within 2 business days and delivery takes 3 to 5 days."
RETURN_Q = "I want to send back the shoes I bought, how do I return them?"
RETURN_A = "You can return anything within 30 days from the Orders page of your account."
ASKED = "When will my parcel arrive? How many days is shipping?"


class Watched:
    """MiniLM that notes how many database connections are checked out while it runs."""

    def __init__(self, model: Embedder, database: Database) -> None:
        self.model, self.database = model, database
        self.name, self.dimension = model.name, model.dimension
        self.held: list[int] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.held.append(self.database.engine.sync_engine.pool.checkedout())
        return self.model.embed(texts)


@pytest.fixture
def minilm(database: Database) -> Iterator[Watched]:
    """Embed with MiniLM (skipped where it is not installed), watching the pool."""
    model = installed_minilm_embedder()
    if model is None:
        pytest.skip("MiniLM is not installed")
    watched = Watched(model, database)
    use_embedder(watched)  # type: ignore[arg-type]
    yield watched
    use_embedder(None)


async def _answered(
    database: Database, workspace_id: str, question: str, answer: str, team_id: str | None = None
) -> str:
    conversation_id = await make_conversation(database, workspace_id, question, team_id=team_id)
    async with database.session() as session:
        reply = MessageCreate(kind=MessageKind.reply, body=answer)
        await conversations.post(session, workspace_id, conversation_id, reply, SYSTEM_ACTING)
    return conversation_id


async def _history(database: Database, workspace_id: str) -> None:
    await _answered(database, workspace_id, SHIPPING_Q, SHIPPING_A)
    await _answered(database, workspace_id, RETURN_Q, RETURN_A)


async def _suggest(
    client: httpx.AsyncClient, conversation_id: str, headers: dict[str, str]
) -> httpx.Response:
    return await client.get(
        f"/api/v1/conversations/{conversation_id}/suggested-replies", headers=headers
    )


async def test_a_shipping_question_suggests_the_shipping_answers(
    client: httpx.AsyncClient, database: Database, minilm: Watched
) -> None:
    workspace = await make_workspace(database)
    await _history(database, workspace.id)
    await make_canned_response(
        database, workspace.id, "shipping",
        "Hi {{customer.first_name | there}}, parcels leave our warehouse within 2 business days.",
    )  # fmt: skip
    await make_canned_response(database, workspace.id, "refund", "Your refund is on its way.")
    article_id = await make_article(
        database,
        workspace.id,
        "Shipping and delivery",
        "Orders ship in 2 days; delivery takes 3-5 days.",
    )
    asking = await make_conversation(database, workspace.id, ASKED)
    minilm.held.clear()
    response = await _suggest(client, asking, bearer(await make_api_key(database, workspace)))
    assert response.status_code == 200
    found = response.json()
    assert found["conversation_id"] == asking and found["message_id"] is not None
    by_kind = {item["kind"]: item for item in found["items"]}
    assert len(found["items"]) == 3
    # The earlier answer comes without the other customer's name.
    assert by_kind["past_reply"]["text"] == (
        "Hi, we ship within 2 business days and delivery takes 3 to 5 days."
    )
    assert by_kind["past_reply"]["title"] == SHIPPING_Q
    assert by_kind["canned_response"]["text"] == (
        "Hi there, parcels leave our warehouse within 2 business days."
    )
    assert by_kind["article"]["source_id"] == article_id
    assert by_kind["article"]["url"].startswith("http://")
    assert RETURN_A not in [item["text"] for item in found["items"]]
    assert [item["score"] for item in found["items"]] == sorted(
        (item["score"] for item in found["items"]), reverse=True
    )
    assert minilm.held and set(minilm.held) == {0}  # no connection held while embedding


async def test_a_return_question_suggests_the_return_answer_first(
    client: httpx.AsyncClient, database: Database, minilm: Watched
) -> None:
    workspace = await make_workspace(database)
    await _history(database, workspace.id)
    asking = await make_conversation(database, workspace.id, "How can I return my boots?")
    found = (await _suggest(client, asking, bearer(await make_api_key(database, workspace)))).json()
    assert [(item["kind"], item["text"]) for item in found["items"]] == [("past_reply", RETURN_A)]


async def test_a_question_naming_a_product_suggests_its_fact(
    client: httpx.AsyncClient, database: Database, minilm: Watched
) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(
        database, workspace.id, "linen-shirt",
        facts=[("Material", "100 % linen"), ("Care", "machine wash at 30 °C, line dry")],
    )  # fmt: skip
    asking = await make_conversation(database, workspace.id, "Can I wash the linen shirt?")
    minilm.held.clear()
    found = (await _suggest(client, asking, bearer(await make_api_key(database, workspace)))).json()
    assert [(item["kind"], item["title"], item["source_id"]) for item in found["items"]] == [
        ("product_fact", "Linen shirt — Care", "linen-shirt")
    ]
    assert found["items"][0]["text"] == "Linen shirt — Care: machine wash at 30 °C, line dry"
    assert minilm.held and set(minilm.held) == {0}  # no connection held while embedding


async def test_another_workspaces_replies_are_never_suggested(
    client: httpx.AsyncClient, database: Database, minilm: Watched
) -> None:
    theirs, ours = await make_workspace(database), await make_workspace(database)
    secret = "Use the code NORTHWIND-SECRET for free express shipping."
    their_conversation = await _answered(database, theirs.id, SHIPPING_Q, secret)
    await make_canned_response(database, theirs.id, "shipping", secret)
    asking = await make_conversation(database, ours.id, SHIPPING_Q)
    headers = bearer(await make_api_key(database, ours))
    found = (await _suggest(client, asking, headers)).json()
    assert found["items"] == []
    # Their conversation's id from our workspace is not found, as the conversation itself.
    refused = await _suggest(client, their_conversation, headers)
    assert (refused.status_code, refused.json()["error"]) == (404, "ConversationNotFound")


async def test_a_limited_agent_gets_suggestions_only_as_they_read_conversations(
    client: httpx.AsyncClient, database: Database, minilm: Watched
) -> None:
    workspace = await make_workspace(database)
    agent = await make_staff(database, workspace, Role.agent)
    returns, billing = (
        await make_team(database, workspace.id, "Returns"),
        await make_team(database, workspace.id, "Billing"),
    )
    async with database.session() as session:
        await teams.add_member(session, workspace.id, returns, agent.user.id)
        await teams.limit_agent(session, workspace.id, agent.user.id, True)
    # Billing's answer to the same question stays with Billing.
    await _answered(database, workspace.id, SHIPPING_Q, "Billing only: 4 days.", billing)
    await _answered(database, workspace.id, SHIPPING_Q, SHIPPING_A, returns)
    theirs = await make_conversation(database, workspace.id, SHIPPING_Q, team_id=billing)
    mine = await make_conversation(database, workspace.id, SHIPPING_Q, team_id=returns)
    headers = session_headers((await sign_in(database, agent)).token)
    refused = await _suggest(client, theirs, headers)
    assert (refused.status_code, refused.json()["error"]) == (404, "ConversationNotFound")
    found = (await _suggest(client, mine, headers)).json()
    assert [item["text"] for item in found["items"] if item["kind"] == "past_reply"] == [
        "Hi, we ship within 2 business days and delivery takes 3 to 5 days."
    ]


async def test_suggestions_need_conversations_read(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    asking = await make_conversation(database, workspace.id, ASKED)
    key = await make_api_key(database, workspace, [Scope.customers_read])
    refused = await _suggest(client, asking, bearer(key))
    assert refused.status_code == 403


async def test_the_console_panel_lists_suggestions_for_conversations_the_agent_may_see(
    client: httpx.AsyncClient, database: Database, minilm: Watched
) -> None:
    workspace = await make_workspace(database)
    agent = await make_staff(database, workspace, Role.agent)
    returns, billing = (
        await make_team(database, workspace.id, "Returns"),
        await make_team(database, workspace.id, "Billing"),
    )
    async with database.session() as session:
        await teams.add_member(session, workspace.id, returns, agent.user.id)
        await teams.limit_agent(session, workspace.id, agent.user.id, True)
    await _answered(database, workspace.id, RETURN_Q, RETURN_A, returns)
    mine = await make_conversation(
        database, workspace.id, "How can I return my boots?", team_id=returns
    )
    theirs = await make_conversation(database, workspace.id, RETURN_Q, team_id=billing)
    await console_sign_in(client, agent.email, agent.password)
    panel = await client.get(f"/console/inbox/conversations/{mine}/suggested-replies")
    assert panel.status_code == 200
    assert "Earlier answer · " in panel.text
    assert f'data-insert-reply data-text="{RETURN_A}"' in panel.text
    page = await client.get(f"/console/inbox/conversations/{mine}")
    assert 'id="suggested-replies"' in page.text
    refused = await client.get(f"/console/inbox/conversations/{theirs}/suggested-replies")
    assert refused.status_code == 404
    assert RETURN_A not in refused.text
