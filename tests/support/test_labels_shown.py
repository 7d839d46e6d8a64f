"""The labels the assistant's models give a customer message (language, intent, sentiment)
reach the people who work the conversation: in the API's conversation and messages, on the
console's conversation page (its details and each labelled message) and, when negative, in
the inbox's rows; the API, the inbox and saved views filter by them. Nothing is shown before
the labelling job has run."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role
from tests.fixtures.identity import bearer, make_api_key
from tests.fixtures.support_console import (
    ANGRY,
    CALM,
    Desk,
    conversation_url,
    label_latest,
    make_desk,
    open_conversation,
)
from tests.web.console import sign_in

LABELS = {
    "detected_language": "fr", "intent": "cancel_order", "intent_confidence": 0.9172,
    "sentiment": "negative", "sentiment_score": -0.7134,
}  # fmt: skip
UNLABELLED = dict.fromkeys(LABELS)


async def test_the_api_shows_a_messages_labels_and_its_conversations(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    headers = bearer(await make_api_key(database, desk.workspace))
    conversation_id = await open_conversation(database, desk.workspace.id, "Annulez tout !")
    url = f"/api/v1/conversations/{conversation_id}"
    before = (await client.get(url, headers=headers)).json()
    assert {name: before[name] for name in LABELS} == UNLABELLED
    await label_latest(database, desk.workspace.id, conversation_id, ANGRY)
    conversation = (await client.get(url, headers=headers)).json()
    assert {name: conversation[name] for name in LABELS} == LABELS
    [message] = (await client.get(f"{url}/messages", headers=headers)).json()["items"]
    assert {name: message[name] for name in LABELS} == LABELS
    reply = await client.post(
        f"{url}/messages", json={"kind": "reply", "body": "Done."}, headers=headers
    )
    assert {name: reply.json()[name] for name in LABELS} == UNLABELLED


async def test_the_console_shows_them_beside_the_conversation_and_in_the_inbox(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database, Role.agent)
    conversation_id = await open_conversation(database, desk.workspace.id, "Annulez tout !")
    await sign_in(client, desk.agent.email, desk.agent.password)
    page = (await client.get(conversation_url(conversation_id))).text
    assert "data-intent" not in page and "data-labels" not in page
    inbox = (await client.get("/console/inbox")).text
    assert "pill sentiment" not in inbox
    await label_latest(database, desk.workspace.id, conversation_id, ANGRY)
    page = (await client.get(conversation_url(conversation_id))).text
    assert (
        '<dd data-intent title="The latest request the customer made that the assistant '
        'understood">Cancel order '
        '<span class="muted">· 92 % sure</span></dd>'
    ) in page
    assert (
        '<dd data-sentiment><span class="pill sentiment pill-red">Negative -0.71</span></dd>'
        in page
    )
    assert "<dd data-detected-language>fr</dd>" in page
    assert (
        '<span class="message-labels" data-labels><span class="pill sentiment pill-red">'
        'Negative</span> <span class="muted">Cancel order · fr</span></span>'
    ) in page
    inbox = (await client.get("/console/inbox")).text
    assert '<span class="pill sentiment pill-red">Negative</span>' in inbox


async def labelled_desk(database: Database) -> tuple[Desk, str, str]:
    """Return a desk whose workspace has an angry, a calm and an unlabelled conversation
    (the first two's ids)."""
    desk = await make_desk(database)
    angry = await open_conversation(database, desk.workspace.id, "Annulez tout !")
    calm = await open_conversation(database, desk.workspace.id, "How long is shipping?")
    await open_conversation(database, desk.workspace.id, "Hello")
    await label_latest(database, desk.workspace.id, angry, ANGRY)
    await label_latest(database, desk.workspace.id, calm, CALM)
    return desk, angry, calm


async def test_conversations_are_listed_by_sentiment_or_intent(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, angry, calm = await labelled_desk(database)
    headers = bearer(await make_api_key(database, desk.workspace))
    url = "/api/v1/conversations"
    for query, expected in [
        ("sentiment=negative", [angry]),
        ("sentiment=neutral", [calm]),
        ("sentiment=positive", []),
        ("intent=cancel_order", [angry]),
        ("intent=delivery_period&sentiment=neutral", [calm]),
        ("intent=delivery_period&sentiment=negative", []),
    ]:
        listed = (await client.get(f"{url}?{query}", headers=headers)).json()["items"]
        assert [item["id"] for item in listed] == expected, query
    for query in ("sentiment=angry", "intent=Cancel%20order", "intent=" + "a" * 65, "intent=x"):
        response = await client.get(f"{url}?{query}", headers=headers)
        assert response.status_code == 422, query


async def test_the_inbox_and_a_saved_view_filter_by_sentiment(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, angry, calm = await labelled_desk(database)
    await sign_in(client, desk.agent.email, desk.agent.password)
    inbox = (await client.get("/console/inbox?status=any&sentiment=negative")).text
    assert f'data-conversation-id="{angry}"' in inbox
    assert f'data-conversation-id="{calm}"' not in inbox
    assert '<option value="negative" selected>Negative</option>' in inbox
    bad = await client.get("/console/inbox?sentiment=furious")
    assert bad.status_code == 422
    headers = bearer(await make_api_key(database, desk.workspace))
    upset = {"sentiment": "negative", "intent": "cancel_order"}
    view = {"name": "Upset", "filters": upset, "shared": True}
    created = await client.post("/api/v1/saved-views", json=view, headers=headers)
    assert created.status_code == 201, created.text
    shown = await client.get(
        f"/api/v1/saved-views/{created.json()['id']}/conversations", headers=headers
    )
    assert [item["id"] for item in shown.json()["items"]] == [angry]
    refused = {"name": "Bad", "filters": {"sentiment": "furious"}}
    assert (
        await client.post("/api/v1/saved-views", json=refused, headers=headers)
    ).status_code == 422


async def test_the_inbox_filters_by_intent_as_the_assistants_report_links_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk, angry, calm = await labelled_desk(database)
    await sign_in(client, desk.agent.email, desk.agent.password)
    inbox = (await client.get("/console/inbox?status=any&intent=cancel_order")).text
    assert f'data-conversation-id="{angry}"' in inbox
    assert f'data-conversation-id="{calm}"' not in inbox
    assert '<input type="hidden" name="intent" value="cancel_order">' in inbox
    assert '<a href="/console/inbox?view=all&amp;status=any">Show every intent</a>' in inbox
    for bad in ("Cancel%20order", "x", "a" * 65, "cancel_order%27%3E"):
        assert (await client.get(f"/console/inbox?intent={bad}")).status_code == 422, bad
