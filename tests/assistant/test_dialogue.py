"""The assistant's dialogue through the support desk and the job that runs it: it owns new
conversations, labels messages, answers, acts only after a "yes", never shows another
customer's order, and hands off."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from rapport.assistant.tasks import TAKE_MESSAGE, answer
from rapport.core.clock import as_utc
from rapport.core.db import Database
from rapport.core.jobs import Job
from rapport.identity.enums import Role
from rapport.identity.models import AuditEvent, Workspace
from rapport.support.assistant_desk import assistant_desk
from rapport.support.enums import MessageKind
from rapport.support.models import Activity, Message, MetricEvent
from rapport.support.schemas import Acting, MessageCreate
from rapport.support.service import conversations
from rapport.worker.runner import Worker
from tests.fixtures.assistant import (
    conversation_row,
    enable_assistant,
    first_message,
    make_buyer,
    make_order,
    open_conversation,
    order_row,
    say,
    thread,
)
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.jobs import FrozenClock
from tests.fixtures.metrics import staff_acting
from tests.fixtures.routing import make_sla_policy


async def _start(database: Database, text: str, customer_id: str | None = None) -> tuple[str, str]:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    conversation_id = await open_conversation(database, workspace.id, text, customer_id)
    await Worker(database, concurrency=1).run_pending()
    return workspace.id, conversation_id


async def session_workspace(database: Database, workspace_id: str) -> Workspace:
    async with database.session() as session:
        found = await session.get(Workspace, workspace_id)
        assert found is not None
        return found


async def _metric_kinds(database: Database, conversation_id: str) -> list[str]:
    async with database.session() as session:
        rows = await session.execute(
            select(MetricEvent.kind).where(MetricEvent.conversation_id == conversation_id)
        )
        return sorted(str(kind) for kind in rows.scalars())


async def test_a_new_conversation_on_an_enabled_channel_is_pending(database: Database) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    conversation_id = await open_conversation(database, workspace.id, "hello")
    assert (await conversation_row(database, conversation_id)).status == "pending"


async def test_without_the_assistant_a_new_conversation_is_open(database: Database) -> None:
    workspace = await make_workspace(database)
    conversation_id = await open_conversation(database, workspace.id, "hello")
    assert (await conversation_row(database, conversation_id)).status == "open"


async def test_a_turn_run_twice_at_once_labels_and_answers_the_message_once(
    database: Database,
) -> None:
    # The job's rerun (or two workers) may take the same message's turn side by side: the
    # conversation is locked before the message's labels are checked, so the second finds
    # them and does nothing.
    workspace_id, conversation_id, message = await first_message(
        database, "Which payment methods do you accept?"
    )
    assert not message.labelled
    engine = database.engine
    turns = await asyncio.gather(*(answer(engine, workspace_id, message) for _ in range(2)))
    assert sorted(turn.replied for turn in turns) == [False, True]
    [taken] = [turn for turn in turns if turn.replied]
    assert taken.outcome is not None
    said = [body for author, private, body in await thread(database, conversation_id)
            if author == "assistant" and not private]  # fmt: skip
    assert said == list(taken.outcome.replies)


async def test_labels_are_stored_on_the_message_and_the_conversation(database: Database) -> None:
    workspace = await make_workspace(database)
    conversation_id = await open_conversation(database, workspace.id, "I hate this, cancel it")
    await Worker(database, concurrency=1).run_pending()
    async with database.session() as session:
        message = (
            await session.execute(select(Message).where(Message.conversation_id == conversation_id))
        ).scalar_one()
        labels = (message.language, message.intent, message.intent_confidence, message.sentiment)
    conversation = await conversation_row(database, conversation_id)
    assert labels == ("en", "cancel_order", 1.0, "negative")
    assert (conversation.detected_language, conversation.intent, conversation.sentiment) == (
        "en", "cancel_order", "negative",
    )  # fmt: skip
    assert conversation.sentiment_score == -0.2
    assert conversation.status == "open"  # labelled, but nobody's bot owns it


async def test_labels_that_raise_the_priority_apply_its_sla_policy_and_say_why(
    database: Database,
) -> None:
    # SLA policies match on priority: a complaint raised to high by its labels gets the high
    # policy's deadline once its jobs have run (before, the first policy's stayed until the
    # conversation's next message).
    clock = FrozenClock(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    workspace = await make_workspace(database)
    await make_sla_policy(database, workspace.id, position=2, first_response_minutes=240)
    high = await make_sla_policy(
        database, workspace.id, position=1, priorities=["high"], first_response_minutes=30
    )
    conversation_id = await open_conversation(database, workspace.id, "I complain")
    await Worker(database, concurrency=1).run_pending()
    conversation = await conversation_row(database, conversation_id)
    assert (conversation.priority, conversation.priority_reason) == ("high", "intent: complaint")
    assert (conversation.sla_policy_id, as_utc(conversation.first_response_due_at)) == (
        high,
        clock.now + timedelta(minutes=30),
    )
    async with database.session() as session:
        logged = (
            await session.execute(
                select(Activity.kind, Activity.actor, Activity.data).where(
                    Activity.conversation_id == conversation_id, Activity.kind == "priority"
                )
            )
        ).all()
    assert [tuple(row) for row in logged] == [("priority", "assistant", {"to": "high"})]


async def test_the_assistants_reply_queues_no_sla_tracking(database: Database) -> None:
    # Its reply changes nothing an SLA reads: the customer's message is tracked, the reply not
    # (one job less a turn; a hand-off or a resolution publish their own events).
    workspace = await make_workspace(database)
    await make_sla_policy(database, workspace.id)  # without one, nothing is tracked at all
    await enable_assistant(database, workspace.id)
    workspace_id = workspace.id
    conversation_id = await open_conversation(
        database, workspace_id, "How long does shipping take?", None
    )
    await Worker(database, concurrency=1).run_pending()
    assert [author for author, _, _ in await thread(database, conversation_id)] == [
        "customer", "assistant",
    ]  # fmt: skip
    async with database.session() as session:
        jobs = (
            await session.execute(select(Job).where(Job.workspace_id == workspace_id))
        ).scalars()
        tracked = sorted(
            job.payload.get("author_type", "-") for job in jobs if job.name == "support.track_sla"
        )
    assert tracked == ["-", "customer"]  # the conversation's creation, the customer's message


async def test_a_knowledge_question_is_answered_and_thanks_resolves(database: Database) -> None:
    workspace_id, conversation_id = await _start(database, "How long does shipping take?")
    await say(database, workspace_id, conversation_id, "thanks")
    messages = await thread(database, conversation_id)
    assert [author for author, _, _ in messages] == [
        "customer",
        "assistant",
        "customer",
        "assistant",
    ]
    assert messages[1][2].startswith("Shipping: We ship in 2-3 working days.\nMore: /help/shipping")
    assert (await conversation_row(database, conversation_id)).status == "resolved"
    assert await _metric_kinds(database, conversation_id) == ["bot_resolved", "resolution"]


async def test_the_job_reads_a_customer_message_with_its_conversation_in_its_workspace(
    database: Database,
) -> None:
    workspace_id, conversation_id, message = await first_message(database, "Where is 4417?")
    assert (message.conversation_id, message.text, message.labelled) == (
        conversation_id, "Where is 4417?", False,
    )  # fmt: skip
    assert (message.status, message.channel, message.customer_id) == ("pending", "api", None)
    other = await make_workspace(database)
    async with database.session() as session:
        assert await assistant_desk.customer_message(session, other.id, message.message_id) is None
        note = await conversations.post(
            session, workspace_id, conversation_id,
            MessageCreate(kind=MessageKind.note, body="internal"), Acting(actor="staff:1"),
        )  # fmt: skip
    async with database.session() as session:
        assert await assistant_desk.customer_message(session, workspace_id, note.id) is None


async def test_the_take_is_done_when_its_turn_is_written_and_queues_nothing_more(
    database: Database,
) -> None:
    """The job's completion is written with the turn (not by the worker's commit before the
    turn ran), so a process that dies in between leaves it to run again; no rerun is queued."""
    _, conversation_id = await _start(database, "How long does shipping take?")
    async with database.session() as session:
        jobs = (await session.execute(select(Job).where(Job.name == TAKE_MESSAGE))).scalars()
        assert [(job.status, job.attempts) for job in jobs] == [("done", 1)]
    assert [author for author, _, _ in await thread(database, conversation_id)] == [
        "customer",
        "assistant",
    ]


async def test_the_assistants_job_is_queued_for_customer_messages_only(
    database: Database,
) -> None:
    """Its replies and notes queue no job of it (`subscribe(..., when=)`): each would only
    be claimed to find nothing to do."""
    workspace_id, conversation_id = await _start(database, "How long does shipping take?")
    await say(database, workspace_id, conversation_id, "thanks")
    async with database.session() as session:
        taken = (
            await session.execute(select(Job.payload).where(Job.name == TAKE_MESSAGE))
        ).scalars()
        message_ids = {payload["message_id"] for payload in taken}
        authors = await session.execute(
            select(Message.author_type).where(Message.id.in_(message_ids))
        )
        assert sorted(str(author) for author in authors.scalars()) == ["customer", "customer"]
    assert len(await thread(database, conversation_id)) == 4  # two replies, no job for them


async def test_cancel_runs_only_after_yes_and_is_audited(database: Database) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    buyer = await make_buyer(database, workspace.id, "ana@example.com")
    order_key = await make_order(database, workspace.id, buyer)
    conversation_id = await open_conversation(database, workspace.id, f"cancel order {order_key}")
    await Worker(database, concurrency=1).run_pending()
    await say(database, workspace.id, conversation_id, "ana@example.com")
    assert (await order_row(database, order_key)).status == "completed"
    await say(database, workspace.id, conversation_id, "yes")
    assert (await order_row(database, order_key)).status == "cancelled"
    replies = [
        body for author, _, body in await thread(database, conversation_id) if author == "assistant"
    ]
    assert replies[0] == "To check it's your order, what email address did you order with?"
    assert replies[1] == (
        f'Shall I cancel order {order_key} (49.00 EUR)? Reply "yes" to confirm or "no" to leave it.'
    )
    assert replies[2] == f"Order {order_key} is cancelled. Anything else I can help with?"
    async with database.session() as session:
        actions = (
            await session.execute(select(AuditEvent.action, AuditEvent.target_id).where(
                AuditEvent.workspace_id == workspace.id, AuditEvent.action.like("assistant.%")
            ))
        ).all()  # fmt: skip
    assert [tuple(row) for row in actions] == [
        ("assistant.settings_changed", "api"), ("assistant.cancel_order", order_key),
    ]  # fmt: skip


async def test_no_leaves_the_order_as_it_is(database: Database) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    buyer = await make_buyer(database, workspace.id, "ana@example.com")
    order_key = await make_order(database, workspace.id, buyer)
    conversation_id = await open_conversation(database, workspace.id, "cancel my order", buyer)
    await Worker(database, concurrency=1).run_pending()
    await say(database, workspace.id, conversation_id, f"#{order_key}")
    await say(database, workspace.id, conversation_id, "no")
    assert (await order_row(database, order_key)).status == "completed"
    assert (await thread(database, conversation_id))[-1][2] == (
        "All right, I've left the order as it is. Anything else I can help with?"
    )


async def test_another_customers_order_is_never_shown(database: Database) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    owner = await make_buyer(database, workspace.id, "owner@example.com")
    await make_buyer(database, workspace.id, "other@example.com")
    order_key = await make_order(database, workspace.id, owner, shipped=True)
    conversation_id = await open_conversation(database, workspace.id, f"where is order {order_key}")
    await Worker(database, concurrency=1).run_pending()
    await say(database, workspace.id, conversation_id, "other@example.com")
    bodies = [body for _, _, body in await thread(database, conversation_id)]
    assert not any("shipped" in body or "49.00" in body for body in bodies)
    assert bodies[-1].startswith("I couldn't find that order for that email address.")


async def test_the_hand_off_note_says_what_the_assistant_did(database: Database) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    owner = await make_buyer(database, workspace.id, "owner@example.com")
    order_key = await make_order(database, workspace.id, owner, shipped=True)
    conversation_id = await open_conversation(
        database, workspace.id, f"where is order {order_key}", owner
    )
    await Worker(database, concurrency=1).run_pending()
    await say(database, workspace.id, conversation_id, "I want to talk to a human")
    author, private, note = (await thread(database, conversation_id))[-1]
    assert (author, private) == ("assistant", True)
    assert note.splitlines()[1:] == [
        f"Done: showed the status of order {order_key}.",
        "Last message: intent contact human agent (100% sure), sentiment neutral (+0.00), English.",
        f"In hand: order {order_key}.",
    ]
    assert "owner@example.com" not in note


async def test_the_owner_sees_the_status(database: Database) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    owner = await make_buyer(database, workspace.id, "owner@example.com")
    order_key = await make_order(database, workspace.id, owner, shipped=True)
    conversation_id = await open_conversation(
        database, workspace.id, f"where is order {order_key}", owner
    )
    await Worker(database, concurrency=1).run_pending()
    reply = (await thread(database, conversation_id))[-1][2]
    assert f"Order {order_key} (placed " in reply and "shipped on" in reply


async def test_asking_for_a_human_hands_off_with_a_note(database: Database) -> None:
    workspace_id, conversation_id = await _start(database, "I want to talk to a human")
    conversation = await conversation_row(database, conversation_id)
    messages = await thread(database, conversation_id)
    assert (conversation.status, conversation.assignee_id) == ("open", None)
    assert conversation.handed_off_at is not None
    assert messages[-1] == (
        "assistant", True,
        "Assistant handed this conversation off (asked_for_human): the customer asked for a "
        "person.\nLast message: intent contact human agent (100% sure), sentiment neutral "
        "(+0.00), English.",
    )  # fmt: skip
    assert await _metric_kinds(database, conversation_id) == ["handoff"]
    await say(database, workspace_id, conversation_id, "hello?")
    assert len(await thread(database, conversation_id)) == len(messages) + 1  # no bot reply


async def test_an_agent_who_answers_takes_the_conversation_and_the_assistant_stops(
    database: Database,
) -> None:
    workspace_id, conversation_id = await _start(database, "blorp")
    workspace = await session_workspace(database, workspace_id)
    agent = await make_staff(database, workspace, Role.agent)
    reply = MessageCreate(kind=MessageKind.reply, body="Hi, I'm Ana from the shop. Let me look.")
    async with database.session() as session:
        await conversations.post(
            session, workspace_id, conversation_id, reply, staff_acting(agent.user.id)
        )
    conversation = await conversation_row(database, conversation_id)
    assert (conversation.status, conversation.handed_off_at is not None) == ("open", True)
    async with database.session() as session:
        events = (
            await session.execute(
                select(MetricEvent.kind, MetricEvent.staff_id, MetricEvent.data).where(
                    MetricEvent.conversation_id == conversation_id
                )
            )
        ).all()
    assert sorted((str(kind), staff, data) for kind, staff, data in events) == [
        ("first_response", agent.user.id, {"from_hand_off": False}),
        ("handoff", agent.user.id, {"reason": "taken_over"}),
        ("reply", agent.user.id, {}),
    ]
    before = len(await thread(database, conversation_id))
    await say(database, workspace_id, conversation_id, "blorp again")
    assert len(await thread(database, conversation_id)) == before + 1  # no bot reply


async def test_it_clarifies_once_then_hands_off(database: Database) -> None:
    workspace_id, conversation_id = await _start(database, "blorp")
    assert (await conversation_row(database, conversation_id)).status == "pending"
    await say(database, workspace_id, conversation_id, "zzzz")
    assert (await conversation_row(database, conversation_id)).status == "open"


async def test_a_vip_customer_goes_to_people(database: Database) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id, vip_trait="vip")
    buyer = await make_buyer(database, workspace.id, "vip@example.com", {"vip": True})
    conversation_id = await open_conversation(database, workspace.id, "How is shipping?", buyer)
    await Worker(database, concurrency=1).run_pending()
    assert (await conversation_row(database, conversation_id)).status == "open"


async def test_a_customer_without_the_vip_trait_stays_with_the_assistant(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id, vip_trait="vip")
    buyer = await make_buyer(database, workspace.id, "plain@example.com", {"vip": False})
    conversation_id = await open_conversation(database, workspace.id, "How is shipping?", buyer)
    await Worker(database, concurrency=1).run_pending()
    assert (await conversation_row(database, conversation_id)).status == "pending"
