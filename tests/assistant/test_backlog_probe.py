"""An outside review of three changes of 2026-12-06, as tests that fail while a bug is there.

1. The backlog (`rapport nlp label-messages`, assistant/backlog.py, support/assistant_desk.py
   `unlabelled` and `label_past`): only a workspace's own old public customer messages, each
   labelled once, in pages; nothing but labels changes; the conversation keeps its newest
   customer message's labels; odd, merged or unreadable messages do not stop it; safe beside
   live turns and a second run; the command's errors.
2. `label_text` with the real shipped models: never raises, tells a language only when sure,
   and keeps the English intent of an English request.
3. The dialogue's `no_answer` hand-off through the real turn: a note for agents, no action,
   the rules before it still win, a yes or no to a pending question is not handed off.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from rapport.assistant import replies
from rapport.assistant.backlog import PAGE, label_backlog
from rapport.assistant.custom_intents import custom_intents
from rapport.assistant.labels import Models, label_text, use_models
from rapport.assistant.models import CustomIntentDay, Dialogue
from rapport.assistant.schemas import CustomIntentWrite
from rapport.config import Settings
from rapport.core.clock import set_clock, utcnow
from rapport.core.crypto import keyring
from rapport.core.db import Database
from rapport.core.jobs import Job
from rapport.identity.audit import SYSTEM
from rapport.identity.models import AuditEvent
from rapport.nlp.fakes import FakeIntentClassifier, FakeLanguageDetector, FakeSentimentAnalyzer
from rapport.support.assistant_desk import MessageLabels, assistant_desk
from rapport.support.enums import ConversationStatus
from rapport.support.merges import merges
from rapport.support.messages import body_aad
from rapport.support.models import Activity, Message, MetricEvent
from rapport.support.schemas import Acting
from rapport.worker.runner import Worker
from tests.fixtures.assistant import (
    KEYWORDS,
    conversation_row,
    customer_messages,
    enable_assistant,
    make_buyer,
    make_order,
    open_conversation,
    order_row,
    post_quietly,
    say,
    thread,
    use_fakes,
)
from tests.fixtures.cli import cli
from tests.fixtures.embedding import embedding_with, minilm_embedder
from tests.fixtures.identity import make_workspace

NOW = timedelta(0)
TRACK, CANCEL = "where is my parcel", "please cancel it"  # track_order, cancel_order (fakes)
CANCEL_LABELS = MessageLabels("en", "cancel_order", 0.97, "neutral", 0.0)
HOURS = CustomIntentWrite(
    name="store_hours",
    examples=["What are your opening hours?", "When does the shop open?"],
    answer="We are open 9:00-18:00.",
)


# -- helpers ------------------------------------------------------------------------------


async def workspace_messages(database: Database, workspace_id: str) -> list[Message]:
    """A workspace's customer messages, in id order."""
    async with database.session() as session:
        query = (
            select(Message)
            .where(Message.workspace_id == workspace_id, Message.author_type == "customer")
            .order_by(Message.id)
        )
        return list((await session.execute(query)).scalars())


async def count(database: Database, model: type[object]) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def reseal(database: Database, message_id: str, text: str, *, aad: str | None = None) -> None:
    """Store a message body as an import or another channel could (no API length limit);
    `aad` seals it to another row, so it no longer opens (a row copied, a key lost)."""
    sealed = keyring().encrypt(text, aad or body_aad(message_id))
    async with database.session() as session:
        await session.execute(update(Message).where(Message.id == message_id).values(body=sealed))


async def in_the_past(database: Database, workspace_id: str, *texts: str) -> str:
    """Open a conversation two hours ago with these customer messages (jobs left pending)."""
    then = utcnow() - timedelta(hours=2)
    set_clock(lambda: then)
    try:
        conversation_id = await open_conversation(database, workspace_id, texts[0])
        for text in texts[1:]:
            await post_quietly(database, workspace_id, conversation_id, text)
    finally:
        set_clock(None)
    return conversation_id


async def label_live(database: Database, workspace_id: str, message: Message) -> None:
    """Label a message as its live job does (locking its conversation)."""
    async with database.session() as session:
        stored = await assistant_desk.customer_message(session, workspace_id, message.id)
        assert stored is not None
        assert await assistant_desk.label(session, workspace_id, stored, CANCEL_LABELS)


def with_password_intents() -> None:
    """The fakes, reading "password" and "review" as understood intents no task covers."""
    keywords = {**KEYWORDS, "password": "recover_password", "review": "review"}
    use_models(
        Models(FakeIntentClassifier(keywords), FakeSentimentAnalyzer(), FakeLanguageDetector())
    )


@pytest.fixture
def password_intents() -> Iterator[None]:
    with_password_intents()
    yield
    use_fakes()


@pytest.fixture
def real_models() -> Iterator[None]:
    """The shipped models (MiniLM intents and sentiment, py3langid); the fake search stays."""
    use_models(None)
    yield
    use_fakes()


# -- 1. the backlog -----------------------------------------------------------------------


async def test_more_than_a_page_is_labelled_once_each(database: Database) -> None:
    workspace = await make_workspace(database)
    total = 230
    conversations_ids = []
    for number in range(total // 10):
        texts = [TRACK if (number + turn) % 2 else CANCEL for turn in range(10)]
        conversations_ids.append(await in_the_past(database, workspace.id, *texts))
    pages: list[int] = []

    labelled = await label_backlog(database, workspace.id, progress=pages.append)
    again: list[int] = []
    second = await label_backlog(database, workspace.id, min_age=NOW, progress=again.append)

    assert (labelled, pages, sum(pages)) == (total, [PAGE, PAGE, total - 2 * PAGE], total)
    assert (second, again) == (0, [])
    messages = await workspace_messages(database, workspace.id)
    assert len(messages) == total and all(m.labelled_at is not None for m in messages)
    for conversation_id in conversations_ids:
        latest = (await customer_messages(database, conversation_id))[-1]
        assert (await conversation_row(database, conversation_id)).intent == latest.intent


async def test_nothing_but_labels_changes(database: Database) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    conversation_id = await in_the_past(database, workspace.id, "I complain: awful, broken")
    await post_quietly(database, workspace.id, conversation_id, "I complain again: terrible")
    before = await conversation_row(database, conversation_id)
    tallies = [await count(database, model) for model in (Activity, MetricEvent, Job, Message)]

    assert await label_backlog(database, workspace.id, min_age=NOW) == 2

    after = await conversation_row(database, conversation_id)
    kept = (
        "status", "priority", "priority_reason", "updated_at", "assignee_id",
        "last_message_at", "message_seq", "awaiting_reply_since", "handed_off_at",
    )  # fmt: skip
    assert {name: getattr(after, name) for name in kept} == {
        name: getattr(before, name) for name in kept
    }
    assert (after.intent, after.sentiment) == ("complaint", "negative")
    assert [await count(database, model) for model in (Activity, MetricEvent, Job, Message)] == (
        tallies
    )
    assert await count(database, Dialogue) == 0


@pytest.mark.parametrize("step", [timedelta(0), timedelta(minutes=-1)], ids=["tie", "back"])
async def test_the_newest_message_is_the_later_one_whatever_the_clock(
    database: Database, step: timedelta
) -> None:
    """Two messages stored in one clock instant, or after the clock stepped back (ids keep
    their order then; created_at does not): the conversation should keep the later one's."""
    workspace = await make_workspace(database)
    then = utcnow() - timedelta(hours=2)
    set_clock(lambda: then)
    try:
        conversation_id = await open_conversation(database, workspace.id, TRACK)
        set_clock(lambda: then + step)
        await post_quietly(database, workspace.id, conversation_id, CANCEL)
    finally:
        set_clock(None)
    older, newer = await customer_messages(database, conversation_id)
    assert older.id < newer.id and older.seq < newer.seq
    if step == timedelta(0):
        await label_live(database, workspace.id, newer)  # the newer one labelled by its job

    await label_backlog(database, workspace.id)

    assert (await conversation_row(database, conversation_id)).intent == "cancel_order"


async def test_a_live_turn_committing_meanwhile_keeps_its_newer_labels(
    database: Database,
) -> None:
    """The live job labels the new message with its conversation locked; the backlog labels
    an old one of the same conversation meanwhile. The newer labels must stay. (SQLite
    serialises writers, so only PostgreSQL's READ COMMITTED shows the lost update.)"""
    workspace = await make_workspace(database)
    conversation_id = await in_the_past(database, workspace.id, TRACK)
    await post_quietly(database, workspace.id, conversation_id, CANCEL)
    _, newer = await customer_messages(database, conversation_id)

    async with database.session() as session:  # the live turn, still writing its reply
        stored = await assistant_desk.customer_message(session, workspace.id, newer.id)
        assert stored is not None
        assert await assistant_desk.label(session, workspace.id, stored, CANCEL_LABELS)
        await session.flush()
        backlog = asyncio.create_task(label_backlog(database, workspace.id))
        await asyncio.sleep(1.5)  # the backlog reads its page and reaches its writes
    assert await backlog == 1

    older, latest = await customer_messages(database, conversation_id)
    assert (older.intent, latest.intent) == ("track_order", "cancel_order")
    assert (await conversation_row(database, conversation_id)).intent == "cancel_order"


async def test_an_unreadable_body_does_not_stop_the_backlog(database: Database) -> None:
    workspace = await make_workspace(database)
    ids = [await in_the_past(database, workspace.id, TRACK) for _ in range(3)]
    [broken] = await customer_messages(database, ids[1])
    await reseal(database, broken.id, TRACK, aad=body_aad("another-row"))

    labelled = await label_backlog(database, workspace.id)  # today: DecryptionError

    assert labelled == 2
    for conversation_id in (ids[0], ids[2]):
        assert (await conversation_row(database, conversation_id)).intent == "track_order"


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        ("where is my order? " * 5500, "track_order"),  # about 100 KB
        ("", "out_of_scope"),
        ("😡🙏📦" * 50, "out_of_scope"),
        ("\x00\x01\x02\ufffd" * 100, "out_of_scope"),
    ],
    ids=["100KB", "empty", "emoji", "control"],
)
async def test_odd_bodies_are_labelled(database: Database, body: str, intent: str) -> None:
    workspace = await make_workspace(database)
    conversation_id = await in_the_past(database, workspace.id, TRACK)
    [message] = await customer_messages(database, conversation_id)
    await reseal(database, message.id, body)

    assert await label_backlog(database, workspace.id) == 1

    [message] = await customer_messages(database, conversation_id)
    assert message.intent == intent and isinstance(message.language, str)
    assert (await conversation_row(database, conversation_id)).intent == intent


async def test_a_merged_conversations_messages_label_the_survivor(database: Database) -> None:
    workspace = await make_workspace(database)
    survivor = await in_the_past(database, workspace.id, TRACK)
    merged = await in_the_past(database, workspace.id, CANCEL)  # the newer message
    async with database.session() as session:
        await merges.merge(session, workspace.id, merged, survivor, Acting(actor="system"))
    before = await conversation_row(database, survivor)

    assert await label_backlog(database, workspace.id) == 2

    kept = await conversation_row(database, survivor)
    gone = await conversation_row(database, merged)
    assert [m.intent for m in await customer_messages(database, survivor)] == [
        "track_order", "cancel_order",
    ]  # fmt: skip
    assert (kept.intent, kept.updated_at, gone.intent) == ("cancel_order", before.updated_at, None)


async def test_two_runs_at_once_label_each_message_once(database: Database) -> None:
    workspace = await make_workspace(database)
    for _ in range(6):
        await in_the_past(database, workspace.id, TRACK, CANCEL, TRACK, CANCEL, TRACK)

    first, second = await asyncio.gather(
        label_backlog(database, workspace.id), label_backlog(database, workspace.id)
    )

    messages = await workspace_messages(database, workspace.id)
    assert first + second == len(messages) == 30
    assert all(message.labelled_at is not None for message in messages)


async def test_beside_live_turns_each_message_is_labelled_once(database: Database) -> None:
    """History (two hours old, its jobs still queued: the worker was behind) and new
    messages, the backlog and the worker at once: every message labelled by one of them,
    every new message answered by its own turn."""
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    history = [await in_the_past(database, workspace.id, TRACK, CANCEL) for _ in range(8)]
    live = [await open_conversation(database, workspace.id, TRACK) for _ in range(6)]

    labelled, _ = await asyncio.gather(
        label_backlog(database, workspace.id), Worker(database).run_pending()
    )

    messages = await workspace_messages(database, workspace.id)
    async with database.session() as session:
        turns = (await session.execute(select(func.sum(Dialogue.turns)))).scalar_one() or 0
    assert all(message.labelled_at is not None for message in messages)
    assert labelled + turns == len(messages) == 2 * len(history) + len(live)
    for conversation_id in live:
        authors = [author for author, _, _ in await thread(database, conversation_id)]
        assert authors[:2] == ["customer", "assistant"]


async def test_custom_intents_count_once_and_only_in_their_workspace(
    database: Database,
) -> None:
    mine, other = await make_workspace(database), await make_workspace(database)
    with embedding_with(minilm_embedder()):
        async with database.session() as session:
            intent = await custom_intents.create(session, mine.id, HOURS, SYSTEM)
            await custom_intents.create(session, other.id, HOURS, SYSTEM)
        for day in (3, 4):
            set_clock(lambda day=day: datetime.fromisoformat(f"2026-03-0{day}T10:00:00+00:00"))
            try:
                await open_conversation(database, mine.id, "when are you open")
                await open_conversation(database, other.id, "when are you open")
            finally:
                set_clock(None)

        assert await label_backlog(database, mine.id) == 2
        assert await label_backlog(database, mine.id) == 0

    async with database.session() as session:
        rows = (await session.execute(select(CustomIntentDay))).scalars().all()
    assert sorted((row.intent_id, str(row.day), row.matches) for row in rows) == [
        (intent.id, "2026-03-03", 1), (intent.id, "2026-03-04", 1),
    ]  # fmt: skip
    assert all(m.labelled_at is None for m in await workspace_messages(database, other.id))


async def test_the_command_refuses_an_unknown_workspace_and_bad_values(
    settings: Settings, database: Database
) -> None:
    workspace = await make_workspace(database)
    unknown = cli(settings, "nlp", "label-messages", "--workspace", "no-such-shop")
    assert unknown.returncode == 1 and "no-such-shop" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    for bad in (["--min-age-minutes", "-1"], ["--min-age-minutes", "many"],
                ["--min-age-minutes", "525601"]):  # fmt: skip
        done = cli(settings, "nlp", "label-messages", "--workspace", workspace.slug, *bad)
        assert done.returncode == 2, (bad, done.stderr)
    assert cli(settings, "nlp", "label-messages").returncode == 2


# -- 2. label_text with the real models ---------------------------------------------------

JUNK = random.Random(7).randbytes(4000)
HOSTILE = {
    "code_switching": "Hola, where is my order 1234?",
    "mixed_scripts": "Где мой заказ 1234? 我的订单在哪里 Where is my order? أين طلبي",
    "emoji_heavy": "😡😡😡 where is my order 📦📦📦 🙏🙏 " * 20,
    "100KB": "where is my order " * 6000,
    "binary_replaced": JUNK.decode("utf-8", "replace"),
    "binary_latin1": JUNK.decode("latin-1"),
    "nul_and_controls": "\x00\x01\x02\x1b[31m cancel \x7f\x9b order \u200b\u202e",
    "lone_surrogates": "\udcff\ud800 cancel my order",
    "zalgo": "w̷h̸e̵r̶e̴ ̷i̸s̵ ̶m̷y̸ ̵o̶r̷d̸e̵r̶",
    "only_digits": "1234 5678 9012",
    "hex": JUNK[:64].hex(),
}


@pytest.mark.usefixtures("real_models")
@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
async def test_label_text_never_raises_and_fits_the_columns(text: str) -> None:
    labels = label_text(text)
    assert isinstance(labels.language, str) and 1 <= len(labels.language) <= 16
    assert isinstance(labels.intent, str) and 1 <= len(labels.intent) <= 64
    assert 0.0 <= labels.intent_confidence <= 1.0 and -1.0 <= labels.sentiment_score <= 1.0
    assert labels.sentiment in {"negative", "neutral", "positive"}


@pytest.mark.usefixtures("real_models")
async def test_code_switching_keeps_the_english_request() -> None:
    labels = label_text("Hola, where is my order 1234?")
    assert (labels.intent, labels.language in ("en", "und")) == ("track_order", True)


@pytest.mark.usefixtures("real_models")
@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("where is my order https://shop.example.com/orders/8f3a9c2e1b7d4e6f9a0b", "track_order"),
        ("where is my order 8f3a9c2e-1b7d-4e6f-9a0b-c3d4e5f60718", "track_order"),
        ("cancel order a93e2ef7b5bef41dcaf50c265a08a5cc", "cancel_order"),
    ],
    ids=["link", "uuid", "hash"],
)
async def test_a_link_or_code_in_an_english_request_is_no_other_language(
    text: str, intent: str
) -> None:
    """py3langid calls text full of ids `zxx` ("no linguistic content") and is sure of it:
    that is no language, and surely no reason to drop the English request's intent."""
    labels = label_text(text)
    assert (labels.language in ("en", "und"), labels.intent) == (True, intent)


@pytest.mark.usefixtures("real_models")
async def test_a_pasted_hash_tells_no_language() -> None:
    assert label_text(JUNK[:64].hex()).language == "und"  # py3langid: "zxx", 1.0


# -- 3. understood, nothing to offer: handed off at once ----------------------------------


async def shop_with_buyer(database: Database, **rules: object) -> tuple[str, str, str]:
    """A workspace with its assistant on, a buyer and an order: (workspace, buyer, order)."""
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id, **rules)
    buyer = await make_buyer(database, workspace.id, f"{workspace.slug}@example.com")
    return workspace.id, buyer, await make_order(database, workspace.id, buyer)


async def start(database: Database, workspace_id: str, text: str, buyer: str | None) -> str:
    conversation_id = await open_conversation(database, workspace_id, text, buyer)
    await Worker(database, concurrency=1).run_pending()
    return conversation_id


async def assistant_actions(database: Database) -> list[str]:
    async with database.session() as session:
        query = select(AuditEvent.action).where(AuditEvent.target_type == "order")
        return [str(action) for action in (await session.execute(query)).scalars()]


@pytest.mark.usefixtures("password_intents")
async def test_understood_with_nothing_to_offer_goes_to_people_with_a_note(
    database: Database,
) -> None:
    workspace_id, buyer, order_key = await shop_with_buyer(database)
    conversation_id = await start(database, workspace_id, "I forgot my password", buyer)

    [_, reply, note] = await thread(database, conversation_id)
    conversation = await conversation_row(database, conversation_id)
    assert reply == ("assistant", False, replies.ENGLISH.not_mine_later)
    assert note[:2] == ("assistant", True)
    assert note[2].startswith("Assistant handed this conversation off (no_answer): ")
    assert "intent recover password (100% sure)" in note[2] and "forgot" not in note[2]
    assert (conversation.status, conversation.assignee_id) == (ConversationStatus.open, None)
    assert conversation.handed_off_at is not None
    # Handed off: the assistant acts on nothing more, not even a confirmed-looking request.
    await say(database, workspace_id, conversation_id, f"cancel order {order_key}")
    await say(database, workspace_id, conversation_id, "yes")
    assert len(await thread(database, conversation_id)) == 5
    assert (await order_row(database, order_key)).status != "cancelled"
    assert await assistant_actions(database) == []


@pytest.mark.usefixtures("password_intents")
@pytest.mark.parametrize(
    ("rules", "traits", "text", "reason"),
    [
        ({"vip_trait": "vip"}, {"vip": True}, "I forgot my password", "vip customer"),
        (
            {"negative_sentiment_threshold": -0.3}, {},
            "awful password broken terrible", "negative sentiment",
        ),
    ],
    ids=["vip", "negative"],
)  # fmt: skip
async def test_an_earlier_rule_still_names_its_own_reason(
    database: Database, rules: dict[str, object], traits: dict[str, object], text: str,
    reason: str,
) -> None:  # fmt: skip
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id, **rules)
    buyer = await make_buyer(database, workspace.id, "someone@example.com", traits)
    conversation_id = await start(database, workspace.id, text, buyer)

    [_, reply, note] = await thread(database, conversation_id)
    assert reply[2] == replies.ENGLISH.handing_off_later
    assert note[2].startswith(
        f"Assistant handed this conversation off ({reason.replace(' ', '_')}): "
    )


@pytest.mark.usefixtures("password_intents")
@pytest.mark.parametrize("hand_off", [False, True], ids=["answers", "hands_off"])
async def test_a_custom_intent_answers_before_the_no_answer_rule(
    database: Database, hand_off: bool
) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    login = CustomIntentWrite(
        name="login_help",
        examples=["I forgot my password", "I can't log in to my account"],
        answer="Reset it at /account/reset.",
        hand_off=hand_off,
    )
    with embedding_with(minilm_embedder()):
        async with database.session() as session:
            await custom_intents.create(session, workspace.id, login, SYSTEM)
        conversation_id = await start(database, workspace.id, "I forgot my password", None)

    messages = await thread(database, conversation_id)
    status = (await conversation_row(database, conversation_id)).status
    assert messages[1] == ("assistant", False, "Reset it at /account/reset.")
    if hand_off:
        assert status == ConversationStatus.open
        assert messages[2][2].startswith("Assistant handed this conversation off (custom_intent): ")
    else:
        assert (status, len(messages)) == (ConversationStatus.pending, 2)


@pytest.mark.usefixtures("real_models")
@pytest.mark.parametrize("answer", ["yes", "Yes, please!", "no", "No thanks"])
async def test_a_yes_or_no_to_the_pending_question_is_not_handed_off(
    database: Database, answer: str
) -> None:
    workspace_id, buyer, order_key = await shop_with_buyer(database)
    conversation_id = await start(database, workspace_id, "I want to cancel my order", buyer)
    await say(database, workspace_id, conversation_id, order_key)
    assert "to confirm" in (await thread(database, conversation_id))[-1][2]

    await say(database, workspace_id, conversation_id, answer)

    conversation = await conversation_row(database, conversation_id)
    last = (await thread(database, conversation_id))[-1]
    assert conversation.status == ConversationStatus.pending
    assert last[:2] == ("assistant", False) and last[2] not in (
        replies.ENGLISH.not_mine,
        replies.ENGLISH.not_mine_later,
    )
    cancelled = (await order_row(database, order_key)).status == "cancelled"
    assert cancelled == answer.lower().startswith("yes")
