"""The demo workspace's history: months of orders, conversations and survey answers, the same
on every run, added once, and enough to fill every headline figure of the dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rapport.analytics.service import metrics
from rapport.assistant.backlog import label_backlog
from rapport.assistant.knowledge import use_search
from rapport.assistant.labels import use_models
from rapport.cli import demo_desk
from rapport.cli.demo_desk import legacy_conversation_id
from rapport.cli.demo_history import HistoryCounts, customer_name, seed_history
from rapport.config import Settings
from rapport.core.clock import utcnow
from rapport.core.crypto import configure_keyring
from rapport.core.db import Database
from rapport.customers.service import customers
from rapport.domains import load_tasks
from rapport.events.models import Order
from rapport.feedback.models import SurveyResponse
from rapport.support.enums import ConversationStatus, MetricKind
from rapport.support.models import Conversation, Message, MetricEvent
from tests.fixtures.assistant import use_fakes
from tests.fixtures.identity import make_workspace

SEEDED = HistoryCounts(orders=2530, conversations=600, answers=437)


def _like_the_cli(settings: Settings) -> None:
    """Set up what every CLI command has: the key ring and the domains' tasks."""
    configure_keyring(settings.secret_keys())
    load_tasks()


async def _seeded(database: Database, settings: Settings) -> str:
    """Seed a new workspace's history as `rapport demo` does; return the workspace id."""
    _like_the_cli(settings)
    workspace = await make_workspace(database)
    await seed_history(database, workspace.id)
    return workspace.id


async def _count(database: Database, model: type[object], workspace_id: str, *where: object) -> int:
    async with database.session() as session:
        query = (
            select(func.count())
            .select_from(model)
            .where(
                model.workspace_id == workspace_id,
                *where,  # type: ignore[attr-defined]
            )
        )
        return int((await session.execute(query)).scalar_one())


async def test_seeding_twice_adds_the_history_once(database: Database, settings: Settings) -> None:
    _like_the_cli(settings)
    workspace = await make_workspace(database)
    assert await seed_history(database, workspace.id) == SEEDED
    assert await seed_history(database, workspace.id) == HistoryCounts(0, 0, 0)
    assert await _count(database, Order, workspace.id) == SEEDED.orders
    assert await _count(database, Conversation, workspace.id) == SEEDED.conversations
    assert await _count(database, SurveyResponse, workspace.id) == SEEDED.answers
    # Every answer belongs to one of the demo's three surveys, so the survey filter works.
    surveyed = await _count(
        database, SurveyResponse, workspace.id, SurveyResponse.survey_id.is_not(None)
    )
    assert surveyed == SEEDED.answers
    cancelled = await _count(database, Order, workspace.id, Order.status == "cancelled")
    reopens = await _count(
        database, MetricEvent, workspace.id, MetricEvent.kind == MetricKind.reopen
    )
    still_open = await _count(
        database, Conversation, workspace.id, Conversation.status == ConversationStatus.open
    )
    assert (cancelled > 0, reopens > 0, still_open > 0) == (True, True, True)


async def test_seeded_customers_have_a_name_and_an_email(
    database: Database, settings: Settings
) -> None:
    # A newcomer's inbox and customer list show people, not "Customer demo-customer-0258".
    workspace_id = await _seeded(database, settings)
    async with database.session() as session:
        ids = (
            await session.execute(
                select(Conversation.customer_id)
                .where(Conversation.workspace_id == workspace_id)
                .limit(3)
            )
        ).scalars()
        shown = [await customers.get(session, workspace_id, str(found)) for found in ids]
    assert len(shown) == 3
    names = {customer_name(number) for number in range(500)}
    assert len(names) == 500  # every demo customer is someone else
    for profile in shown:
        name = profile.traits["name"].value
        emails = [item.value for item in profile.identifiers if item.kind == "email"]
        assert name in names
        assert emails == [name.lower().replace(" ", ".") + "@example.com"]


async def test_the_inbox_order_of_seeded_conversations_is_their_opening_order(
    database: Database, settings: Settings
) -> None:
    # The inbox lists conversations newest first by id, as ids are made when they open.
    workspace_id = await _seeded(database, settings)
    later = await make_workspace(database)  # made after the seeding: its id is newer
    async with database.session() as session:
        rows = (
            await session.execute(
                select(Conversation.id, Conversation.created_at)
                .where(Conversation.workspace_id == workspace_id)
                .order_by(Conversation.id)
            )
        ).all()
    opened = [row.created_at for row in rows]
    assert len(rows) == SEEDED.conversations
    assert opened == sorted(opened)
    # Older than anything made afterwards, as conversations opened before the seeding are.
    assert rows[-1].id < later.id


async def test_history_seeded_under_the_old_conversation_ids_is_not_added_again(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before 2026-12-04 the demo named its conversations by a plain hash: a database seeded
    # then must not get its 600 conversations a second time.
    _like_the_cli(settings)
    workspace = await make_workspace(database)
    with monkeypatch.context() as patch:
        patch.setattr(
            demo_desk,
            "conversation_id",
            lambda ws, number, _age: legacy_conversation_id(ws, number),
        )
        assert (await seed_history(database, workspace.id)).conversations == SEEDED.conversations
    assert await seed_history(database, workspace.id) == HistoryCounts(0, 0, 0)
    assert await _count(database, Conversation, workspace.id) == SEEDED.conversations


async def test_the_seeded_window_fills_the_headline_figures(
    database: Database, settings: Settings
) -> None:
    workspace_id = await _seeded(database, settings)
    today = utcnow().date()
    async with database.session() as session:
        found = await metrics.summary(
            session, workspace_id, first_day=today - timedelta(days=30),
            end_day=today + timedelta(days=1),
        )  # fmt: skip
    headline = (found.nps, found.csat, found.retention_rate, found.first_response_seconds_p50)
    assert None not in headline
    assert (found.volume > 50, found.resolutions > 30, found.handoffs > 0) == (True, True, True)


async def test_the_assistants_hand_offs_say_why_and_on_what(
    database: Database, settings: Settings
) -> None:
    workspace_id = await _seeded(database, settings)
    async with database.session() as session:
        rows = (
            await session.execute(
                select(MetricEvent.data).where(
                    MetricEvent.workspace_id == workspace_id,
                    MetricEvent.kind == MetricKind.handoff,
                )
            )
        ).scalars()
        found = [(data["intent"], data["reason"]) for data in rows]
    allowed = {intent: set(reasons) for intent, reasons in demo_desk.HANDOFFS}
    assert len(found) > 20
    assert all(reason in allowed[intent] for intent, reason in found)
    assert {reason for _, reason in found} >= {"no_answer", "asked_for_human"}


async def test_the_historys_customer_messages_are_labelled_as_live_ones(
    database: Database, settings: Settings
) -> None:
    workspace_id = await _seeded(database, settings)
    use_fakes()
    try:
        labelled = await label_backlog(database, workspace_id, min_age=timedelta(0))
    finally:
        use_models(None)
        use_search(None)

    async with database.session() as session:
        rows = (
            await session.execute(
                select(Message.intent, Conversation.intent, Conversation.sentiment)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.workspace_id == workspace_id, Message.author_type == "customer")
            )
        ).all()  # fmt: skip
    assert labelled == len(rows) == SEEDED.conversations  # one customer message each
    assert all(message == conversation is not None for message, conversation, _ in rows)
    # The wordings differ in topic and tone: the labels do too.
    assert len({intent for intent, _, _ in rows}) >= 4
    assert {sentiment for _, _, sentiment in rows} >= {"negative", "neutral", "positive"}
