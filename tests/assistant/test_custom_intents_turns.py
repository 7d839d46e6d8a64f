"""Custom intents in the turn: a message close to an example gets the workspace's answer and
its intent, with MiniLM behind the match; rules before them still win; changes are seen at
once; another workspace's intents never answer; the generative model is not asked; an
intent that starts an order task verifies the order and waits for the customer's yes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from rapport.assistant import replies
from rapport.assistant.custom_intents import custom_intents, language_groups
from rapport.assistant.labels import Models, use_models
from rapport.assistant.models import CustomIntent, CustomIntentDay
from rapport.assistant.repository import CustomIntentDayRepository
from rapport.assistant.schemas import CustomIntentWrite
from rapport.core.clock import set_clock
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.nlp.fakes import (
    FakeEmbedder,
    FakeIntentClassifier,
    FakeLanguageDetector,
    FakeSentimentAnalyzer,
)
from rapport.support.models import Message
from rapport.worker.runner import Worker
from tests.fixtures.assistant import (
    KEYWORDS,
    conversation_row,
    enable_assistant,
    make_buyer,
    make_order,
    open_conversation,
    order_row,
    say,
    thread,
)
from tests.fixtures.embedding import embedding_with, minilm_embedder
from tests.fixtures.identity import make_workspace
from tests.fixtures.openai_fake import fake_openai, says, use_model

ANSWER = "We are open 9:00-18:00, Monday to Saturday."
HOURS = CustomIntentWrite(
    name="store_hours",
    examples=["What are your opening hours?", "When does the shop open?", "What time do you open?"],
    answer=ANSWER,
)


@pytest.fixture(autouse=True)
def _minilm() -> Iterator[None]:
    with embedding_with(minilm_embedder()):
        yield


async def shop(database: Database, *intents: CustomIntentWrite) -> str:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    async with database.session() as session:
        for intent in intents:
            await custom_intents.create(session, workspace.id, intent, SYSTEM)
    return workspace.id


async def ask(database: Database, workspace_id: str, text: str) -> str:
    conversation_id = await open_conversation(database, workspace_id, text)
    await Worker(database, concurrency=1).run_pending()
    return conversation_id


async def first_labels(database: Database, conversation_id: str) -> tuple[str | None, float]:
    async with database.session() as session:
        message = (
            await session.execute(
                select(Message).where(Message.conversation_id == conversation_id)
                .order_by(Message.seq).limit(1)
            )
        ).scalar_one()  # fmt: skip
    return message.intent, message.intent_confidence or 0.0


async def test_a_paraphrase_gets_the_workspaces_answer_and_intent(database: Database) -> None:
    workspace_id = await shop(database, HOURS)
    conversation_id = await ask(database, workspace_id, "when are you open")
    assert (await thread(database, conversation_id))[1] == ("assistant", False, ANSWER)
    intent, confidence = await first_labels(database, conversation_id)
    assert intent == "store_hours" and 0.7 <= confidence <= 1.0
    assert (await conversation_row(database, conversation_id)).intent == "store_hours"
    await say(database, workspace_id, conversation_id, "thanks")
    assert (await conversation_row(database, conversation_id)).status == "resolved"


async def test_a_message_far_from_every_example_takes_the_usual_path(database: Database) -> None:
    workspace_id = await shop(database, HOURS)
    conversation_id = await ask(database, workspace_id, "How long does shipping take?")
    reply = (await thread(database, conversation_id))[1][2]
    assert reply.startswith("Shipping: We ship in 2-3 working days.")
    assert (await first_labels(database, conversation_id))[0] == "delivery_period"


async def test_asking_for_a_human_still_hands_off(database: Database) -> None:
    workspace_id = await shop(database, HOURS)
    conversation_id = await ask(database, workspace_id, "human please: when are you open?")
    assert (await thread(database, conversation_id))[1][2] == replies.ENGLISH.handing_off_later
    assert (await conversation_row(database, conversation_id)).status == "open"


async def test_a_disabled_intent_answers_nothing(database: Database) -> None:
    workspace_id = await shop(database, HOURS.model_copy(update={"enabled": False}))
    conversation_id = await ask(database, workspace_id, "when are you open")
    assert (await thread(database, conversation_id))[1][2] == replies.ENGLISH.clarify


async def test_a_change_is_seen_by_the_next_message(database: Database) -> None:
    workspace_id = await shop(database, HOURS)
    assert (await thread(database, await ask(database, workspace_id, "when are you open")))[1][
        2
    ] == ANSWER
    async with database.session() as session:
        [intent] = (await custom_intents.listed(session, workspace_id)).items
        changed = HOURS.model_copy(update={"answer": "Open every day, 8:00-20:00."})
        await custom_intents.replace(session, workspace_id, intent.id, changed, SYSTEM)
    conversation_id = await ask(database, workspace_id, "when are you open")
    assert (await thread(database, conversation_id))[1][2] == "Open every day, 8:00-20:00."
    async with database.session() as session:
        await custom_intents.delete(session, workspace_id, intent.id, SYSTEM)
    conversation_id = await ask(database, workspace_id, "when are you open")
    assert (await thread(database, conversation_id))[1][2] == replies.ENGLISH.clarify


async def test_another_workspaces_intents_never_answer(database: Database) -> None:
    await shop(database, HOURS)
    workspace_id = await shop(database)
    conversation_id = await ask(database, workspace_id, "when are you open")
    assert (await thread(database, conversation_id))[1][2] == replies.ENGLISH.clarify
    assert (await first_labels(database, conversation_id))[0] != "store_hours"


async def test_the_generative_model_is_not_asked_for_a_matched_message(
    database: Database,
) -> None:
    with fake_openai() as fake:
        fake.script.append(says("From the model."))
        workspace_id = await shop(database, HOURS)
        await use_model(database, workspace_id, fake.url)
        conversation_id = await ask(database, workspace_id, "when are you open")
    assert (await thread(database, conversation_id))[1][2] == ANSWER
    assert fake.received == []


async def test_an_intent_that_hands_off_leaves_a_note_and_opens_the_conversation(
    database: Database,
) -> None:
    sales = "Our wholesale team will reply here shortly."
    wholesale = CustomIntentWrite(
        name="wholesale",
        examples=["Do you sell wholesale?", "Can I buy in bulk for my store?"],
        answer=sales,
        hand_off=True,
    )
    workspace_id = await shop(database, wholesale)
    conversation_id = await ask(database, workspace_id, "do you do wholesale prices?")
    messages = await thread(database, conversation_id)
    assert messages[1] == ("assistant", False, sales)
    assert (
        messages[2][1] is True and "handed this conversation off (custom_intent)" in messages[2][2]
    )
    assert "Last message: intent wholesale (" in messages[2][2]
    assert (await conversation_row(database, conversation_id)).status == "open"


async def test_examples_saved_under_another_model_are_embedded_again(database: Database) -> None:
    with embedding_with(FakeEmbedder()):  # saved while MiniLM was missing, say
        workspace_id = await shop(database, HOURS)
    async with database.session() as session:
        [stored] = (await session.execute(select(CustomIntent))).scalars().all()
    assert stored.embedding_model == "fake-embedder"
    with embedding_with(minilm_embedder()):
        conversation_id = await ask(database, workspace_id, "when are you open")
    assert (await thread(database, conversation_id))[1] == ("assistant", False, ANSWER)


PARCEL = CustomIntentWrite(
    name="parcel_left",
    examples=[
        "Has my parcel left the warehouse?",
        "Did my parcel leave your warehouse yet?",
        "Is my parcel out of the warehouse?",
    ],
    task="order_status",
)


async def test_an_intent_that_starts_a_task_looks_up_the_customers_order(
    database: Database,
) -> None:
    workspace_id = await shop(database, PARCEL)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    conversation_id = await open_conversation(
        database, workspace_id, "has the parcel left your warehouse?", customer_id=buyer
    )
    await Worker(database, concurrency=1).run_pending()
    assert (await thread(database, conversation_id))[1][2] == replies.ENGLISH.ask_order
    assert (await first_labels(database, conversation_id))[0] == "parcel_left"
    await say(database, workspace_id, conversation_id, order)
    reply = (await thread(database, conversation_id))[-1][2]
    assert reply.startswith(f"Order {order} (placed ") and "has not shipped yet" in reply


async def test_an_action_an_intent_starts_runs_only_after_yes(database: Database) -> None:
    stop = CustomIntentWrite(
        name="stop_parcel",
        examples=["Please stop my parcel", "Stop the parcel, I don't want it", "Halt my parcel"],
        answer="I can stop it while it is still with us.",
        task="cancel_order",
    )
    workspace_id = await shop(database, stop)
    buyer = await make_buyer(database, workspace_id, "ann@example.com")
    order = await make_order(database, workspace_id, buyer)
    conversation_id = await open_conversation(
        database, workspace_id, f"please stop parcel {order}", customer_id=buyer
    )
    await Worker(database, concurrency=1).run_pending()
    messages = await thread(database, conversation_id)
    assert messages[1][2] == "I can stop it while it is still with us."
    assert f"cancel order {order}" in messages[2][2]
    assert (await order_row(database, order)).status != "cancelled"
    await say(database, workspace_id, conversation_id, "yes")
    assert (await thread(database, conversation_id))[-1][2].startswith(
        f"Order {order} is cancelled."
    )
    assert (await order_row(database, order)).status == "cancelled"


async def test_each_message_that_takes_an_intent_is_counted_by_day(database: Database) -> None:
    now = [datetime(2026, 12, 4, 23, 59, tzinfo=UTC)]
    set_clock(lambda: now[0])
    workspace_id = await shop(database, HOURS)
    await ask(database, workspace_id, "when are you open")
    now[0] = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    await ask(database, workspace_id, "when do you open")
    await ask(database, workspace_id, "How long does shipping take?")  # not the intent's
    other = await shop(database, HOURS)
    await ask(database, other, "what time do you open")
    async with database.session() as session:
        report = await custom_intents.matches(session, workspace_id, days=3)
    assert (report.first_day, report.last_day) == (date(2026, 12, 4), date(2026, 12, 6))
    [counted] = report.items
    assert (counted.name, counted.total) == ("store_hours", 2)
    assert [(point.day.day, point.matches) for point in counted.days] == [(4, 1), (5, 0), (6, 1)]


async def test_an_intent_deleted_before_its_count_counts_nothing(database: Database) -> None:
    workspace_id = await shop(database, HOURS)
    async with database.session() as session:
        [intent] = (await custom_intents.listed(session, workspace_id)).items
        await custom_intents.delete(session, workspace_id, intent.id, SYSTEM)
    async with database.session() as session:  # a turn that matched it a moment before
        await CustomIntentDayRepository(session, workspace_id).add_match(intent.id, date.today())
    async with database.session() as session:
        assert (await custom_intents.matches(session, workspace_id)).items == []
        rows = await session.execute(select(CustomIntentDay))
        assert [row for row in rows.scalars() if row.workspace_id == workspace_id] == []


async def test_a_message_in_another_language_gets_the_answer_in_it(database: Database) -> None:
    translated = HOURS.model_copy(
        update={"translations": {"fr": "Ouvert de 9h à 18h.", "de": "Geöffnet 9-18 Uhr."}}
    )
    workspace_id = await shop(database, translated)
    for language, expected in [("fr", "Ouvert de 9h à 18h."), ("es", ANSWER), ("und", ANSWER)]:
        classifier = FakeIntentClassifier(KEYWORDS)
        use_models(Models(classifier, FakeSentimentAnalyzer(), FakeLanguageDetector(language)))
        conversation_id = await ask(database, workspace_id, "when are you open")
        assert (await thread(database, conversation_id))[1][2] == expected, language


def test_examples_in_a_language_other_than_most_form_a_group() -> None:
    assert language_groups(["en", "en", "fr", "", "en", "de", "fr"]) == [
        "", "", "fr", "", "", "de", "fr",
    ]  # fmt: skip
    assert language_groups(["", ""]) == ["", ""]
    assert language_groups(["fr", "", "fr"]) == ["", "", ""]


async def test_a_message_like_the_one_french_example_takes_the_intent(database: Database) -> None:
    use_models(None)  # the shipped language detector tells the examples' languages
    wrap = CustomIntentWrite(
        name="gift_wrap",
        examples=[
            "Can you gift wrap my order?", "Do you offer gift wrapping?",
            "Could you wrap it as a present?", "Pouvez-vous faire un paquet cadeau ?",
        ],
        answer="Yes, at checkout.",
        translations={"fr": "Oui, au moment de payer."},
    )  # fmt: skip
    workspace_id = await shop(database, wrap)
    async with database.session() as session:
        [stored] = (await session.execute(select(CustomIntent))).scalars().all()
    assert stored.example_languages == ["", "", "en", "fr"]  # "" where langid is unsure
    asked = "Bonjour, pouvez-vous faire un paquet cadeau pour ma mère ?"
    conversation_id = await ask(database, workspace_id, asked)
    assert (await thread(database, conversation_id))[1][2] == "Oui, au moment de payer."
