"""A conversation's labels say what its customer wants and feels: a bare answer to the
assistant's question ("1002", "yes"), a "thanks" or an off-topic line after a request does
not wipe the request from the inbox, its filters or the agent's view; a new request, a newer
mood and a newly told language do replace the old ones, whichever order the messages are
labelled in. Each message keeps its own labels."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from rapport.assistant.backlog import label_backlog
from rapport.assistant.labels import label_text
from rapport.core.db import Database
from rapport.support.assistant_desk import MessageLabels, assistant_desk
from rapport.support.enums import Priority
from tests.fixtures.assistant import conversation_row, customer_messages, post_quietly
from tests.fixtures.identity import bearer, make_api_key
from tests.fixtures.support_console import ANGRY, CALM, label_latest, make_desk, open_conversation

URL = "/api/v1/conversations"
# What the models make of "1002" sent after "which order?": a bare answer.
ORDER_NUMBER = MessageLabels("und", "out_of_scope", 0.0, "neutral", 0.0, bare=True)
THANKS = MessageLabels("de", "out_of_scope", 0.2, "positive", 0.66)
UNTOLD_OK = MessageLabels("und", "out_of_scope", 0.31, "neutral", 0.01)
FIELDS = ("detected_language", "intent", "intent_confidence", "sentiment", "sentiment_score")


async def labels_after(database: Database, *sequence: MessageLabels) -> tuple[object, ...]:
    """Open a conversation, label its messages in turn as live turns do, and return the
    conversation's labels."""
    desk = await make_desk(database)
    conversation_id = await open_conversation(database, desk.workspace.id, "first")
    await label_latest(database, desk.workspace.id, conversation_id, sequence[0])
    for labels in sequence[1:]:
        await post_quietly(database, desk.workspace.id, conversation_id, "next")
        await label_latest(database, desk.workspace.id, conversation_id, labels)
    conversation = await conversation_row(database, conversation_id)
    return tuple(getattr(conversation, name) for name in FIELDS)


async def test_a_bare_answer_leaves_the_request_and_the_mood(database: Database) -> None:
    assert await labels_after(database, ANGRY, ORDER_NUMBER) == (
        "fr", "cancel_order", 0.9172, "negative", -0.7134,
    )  # fmt: skip


async def test_a_thanks_after_a_request_keeps_the_request_and_takes_the_mood(
    database: Database,
) -> None:
    assert await labels_after(database, ANGRY, THANKS) == (
        "de", "cancel_order", 0.9172, "positive", 0.66,
    )  # fmt: skip


async def test_a_new_request_takes_over(database: Database) -> None:
    assert await labels_after(database, ANGRY, ORDER_NUMBER, CALM) == (
        "en", "delivery_period", 0.81, "neutral", 0.02,
    )  # fmt: skip


async def test_a_request_after_small_talk_takes_over(database: Database) -> None:
    assert await labels_after(database, THANKS, ANGRY) == (
        "fr", "cancel_order", 0.9172, "negative", -0.7134,
    )  # fmt: skip


async def test_a_bare_first_message_tells_no_mood_and_no_request(database: Database) -> None:
    assert await labels_after(database, ORDER_NUMBER) == (
        "und", "out_of_scope", 0.0, None, None,
    )  # fmt: skip
    assert await labels_after(database, ORDER_NUMBER, THANKS) == (
        "de", "out_of_scope", 0.0, "positive", 0.66,
    )  # fmt: skip
    assert await labels_after(database, ORDER_NUMBER, ANGRY) == (
        "fr", "cancel_order", 0.9172, "negative", -0.7134,
    )  # fmt: skip


async def label_in_order(
    database: Database, texts: list[str], labels: list[MessageLabels], order: list[int]
) -> tuple[object, ...]:
    """Post customer messages, then label them in `order` (indexes) as their turns would,
    and return the conversation's labels and priority."""
    desk = await make_desk(database)
    conversation_id = await open_conversation(database, desk.workspace.id, texts[0])
    for text in texts[1:]:
        await post_quietly(database, desk.workspace.id, conversation_id, text)
    stored = await customer_messages(database, conversation_id)
    for index in order:
        async with database.session() as session:
            message = await assistant_desk.customer_message(
                session, desk.workspace.id, stored[index].id
            )
            assert message is not None
            found = await assistant_desk.label(session, desk.workspace.id, message, labels[index])
            assert found is not None
    conversation = await conversation_row(database, conversation_id)
    return (*(getattr(conversation, name) for name in FIELDS), conversation.priority)


async def test_turns_run_out_of_order_leave_the_newer_messages_labels(
    database: Database,
) -> None:
    # The calm thanks is labelled first; the angry cancellation before it comes after: the
    # request is filled in, the mood stays the newer one, and no priority is raised for an
    # anger the customer has already moved past.
    assert await label_in_order(
        database, ["Annulez tout !", "Danke, alles gut!"], [ANGRY, THANKS], [1, 0]
    ) == ("de", "cancel_order", 0.9172, "positive", 0.66, Priority.normal)
    # In order, the same two: the anger raised the priority when it was the newest.
    assert await label_in_order(
        database, ["Annulez tout !", "Danke, alles gut!"], [ANGRY, THANKS], [0, 1]
    ) == ("de", "cancel_order", 0.9172, "positive", 0.66, Priority.high)
    # A newer request is not replaced by an older one labelled late.
    assert await label_in_order(
        database, ["Annulez tout !", "When will it come?"], [ANGRY, CALM], [1, 0]
    ) == ("en", "delivery_period", 0.81, "neutral", 0.02, Priority.normal)


async def test_an_untold_language_keeps_the_told_one(database: Database) -> None:
    assert await labels_after(database, CALM, UNTOLD_OK) == (
        "en", "delivery_period", 0.81, "neutral", 0.01,
    )  # fmt: skip


async def test_the_inbox_filter_still_finds_a_request_answered_with_its_order_number(
    client: httpx.AsyncClient, database: Database
) -> None:
    desk = await make_desk(database)
    headers = bearer(await make_api_key(database, desk.workspace))
    conversation_id = await open_conversation(database, desk.workspace.id, "Annulez tout !")
    await label_latest(database, desk.workspace.id, conversation_id, ANGRY)
    sent = await client.post(
        f"{URL}/{conversation_id}/messages", json={"kind": "customer", "body": "1002"},
        headers=headers,
    )  # fmt: skip
    assert sent.status_code == 201, sent.text
    await label_latest(database, desk.workspace.id, conversation_id, ORDER_NUMBER)

    found = await client.get(f"{URL}?intent=cancel_order&sentiment=negative", headers=headers)
    assert [item["id"] for item in found.json()["items"]] == [conversation_id]
    messages = (await client.get(f"{URL}/{conversation_id}/messages", headers=headers)).json()
    assert [(item["intent"], item["sentiment"]) for item in messages["items"]] == [
        ("cancel_order", "negative"), ("out_of_scope", "neutral"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "1002", "#1002", "yes", "oui", "ja bitte", "ok", "jane.doe@example.org", "???", "   ",
        "😡😡", "✓", "1002 😭😭😭😭😭😭😭😭😭😭",
    ],
)  # fmt: skip
def test_answers_and_noise_are_bare_and_tell_no_mood(text: str) -> None:
    labels = label_text(text)
    assert labels.bare
    assert (labels.intent, labels.intent_confidence) == ("out_of_scope", 0.0)
    assert (labels.sentiment, labels.sentiment_score) == ("neutral", 0.0)


@pytest.mark.parametrize(
    "text",
    [
        "where is my order", "Annulez ma commande 1002 !", "thanks, that's all", "hmm",
        "cancel order 1002", "where is order 1002", "order 1002 please",
    ],
)  # fmt: skip
def test_messages_that_say_something_are_not_bare(text: str) -> None:
    assert not label_text(text).bare


async def test_history_labelled_after_a_live_answer_fills_in_the_request(
    database: Database,
) -> None:
    desk = await make_desk(database)
    conversation_id = await open_conversation(
        database, desk.workspace.id, "Bitte stornieren Sie meine Bestellung, sofort!"
    )
    await post_quietly(database, desk.workspace.id, conversation_id, "1002")
    await label_latest(database, desk.workspace.id, conversation_id, label_text("1002"))

    assert await label_backlog(database, desk.workspace.id, min_age=timedelta(0)) == 1

    request, _ = await customer_messages(database, conversation_id)
    conversation = await conversation_row(database, conversation_id)
    assert (conversation.detected_language, conversation.intent) == ("de", "cancel_order")
    assert (conversation.sentiment, conversation.sentiment_score) == (
        request.sentiment, request.sentiment_score,
    )  # fmt: skip


async def test_the_backlog_labels_a_conversation_as_live_turns_do(database: Database) -> None:
    desk = await make_desk(database)
    conversation_id = await open_conversation(
        database, desk.workspace.id, "I want to cancel my order, I ordered the wrong size"
    )
    await post_quietly(database, desk.workspace.id, conversation_id, "1002")

    assert await label_backlog(database, desk.workspace.id, min_age=timedelta(0)) == 2

    request, number = await customer_messages(database, conversation_id)
    conversation = await conversation_row(database, conversation_id)
    assert (request.intent, number.intent) == ("cancel_order", "out_of_scope")
    assert (conversation.intent, conversation.intent_confidence) == (
        "cancel_order", request.intent_confidence,
    )  # fmt: skip
    assert conversation.detected_language == "en"
