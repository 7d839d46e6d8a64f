"""The assistant's speed: MiniLM sentences/s, and message in -> bot reply out under load.

Run alone: `.venv/bin/python bench/assistant.py [--messages N] [--postgres URL]`.

On a fresh migrated database (SQLite; PostgreSQL too with --postgres or
RAPPORT_TEST_DATABASE_URL) with the demo knowledge base and the assistant on, it prints:
  - embedding sentences/s (int8 MiniLM, batches of 32) and one sentence at a time p50/p95;
  - p50/p95/p99 of message in -> bot reply out with 1, 50 and 200 conversations at once: a
    customer message is stored through the support desk (its own unit of work), then the
    assistant's turn runs as its job's after-commit step does (the three models in a thread,
    knowledge search, labels, dialogue, reply written and committed). The job queue's own
    wait is bench/jobs.py's figure and is not included. Questions mix an order status (with
    verification), shipping/returns/payment questions and a thank-you.
Target: p95 < 30 ms at 200 conversations. The machine is shared: the load average is
printed beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy.ext.asyncio import AsyncEngine

from benchdb import drop_postgres, fresh_postgres
from rapport.assistant.demo import DEMO_CUSTOMER_EMAIL
from rapport.assistant.demo import seed_demo as seed_assistant
from rapport.assistant.labels import label_text, models
from rapport.assistant.tasks import answer
from rapport.core.crypto import configure_keyring
from rapport.core.db import Database
from rapport.db.migrate import upgrade
from rapport.domains import load_tasks
from rapport.identity.audit import SYSTEM
from rapport.identity.service import workspaces
from rapport.knowledge.demo import seed_demo as seed_articles
from rapport.nlp.embeddings import load_embedder
from rapport.support.assistant_desk import assistant_desk
from rapport.support.enums import ApiChannel, MessageKind
from rapport.support.schemas import Acting, ConversationCreate, MessageCreate
from rapport.support.service import conversations

SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
CUSTOMER = Acting(actor="customer")
QUESTIONS = (
    "How long does shipping take to France?",
    "where is my order 1001",
    DEMO_CUSTOMER_EMAIL,
    "Can I return a shirt that doesn't fit?",
    "Which payment methods do you accept?",
    "thanks",
)
CONCURRENCY = (1, 50, 200)


def percentile(values: list[float], share: float) -> float:
    """Return the value below which `share` of the values lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def embedding_speed() -> None:
    """Print MiniLM sentences/s in batches and one at a time."""
    embedder = load_embedder()
    sentences = [f"{question} ({number})" for number, question in
                 zip(range(512), itertools.cycle(QUESTIONS), strict=False)]  # fmt: skip
    embedder.embed(sentences[:32])  # warm up
    started = time.perf_counter()
    embedder.embed(sentences)
    batch = len(sentences) / (time.perf_counter() - started)
    single = []
    for sentence in sentences[:100]:
        started = time.perf_counter()
        embedder.embed([sentence])
        single.append((time.perf_counter() - started) * 1000)
    print(f"embedding ({embedder.name}): {batch:,.0f} sentences/s in batches of 32")
    print(
        f"embedding one sentence: p50 {statistics.median(single):.1f} ms, "
        f"p95 {percentile(single, 0.95):.1f} ms"
    )


async def setup(database: Database) -> str:
    """Create a workspace with the demo articles, the assistant on for the API channel."""
    async with database.session() as session:
        workspace = await workspaces.create(session, slug="bench", name="Bench", actor=SYSTEM)
    async with database.session() as session:
        await seed_articles(session, workspace.id)
    async with database.session() as session:
        await seed_assistant(session, workspace.id)
    from rapport.assistant.schemas import AssistantSettingsUpdate
    from rapport.assistant.service import assistant
    from rapport.support.enums import Channel

    async with database.session() as session:
        body = AssistantSettingsUpdate(enabled=True)
        await assistant.configure(session, workspace.id, Channel.api, body, SYSTEM)
    return workspace.id


async def open_pending(database: Database, workspace_id: str) -> str:
    """Open a conversation the assistant owns."""
    body = ConversationCreate(
        channel=ApiChannel.api, message=MessageCreate(kind=MessageKind.customer, body="hi")
    )
    async with database.session() as session:
        conversation = await conversations.create(session, workspace_id, body, CUSTOMER)
        return conversation.id


async def one_turn(database: Database, workspace_id: str, conversation_id: str, text: str) -> float:
    """Store a customer message, run the assistant's turn; return milliseconds to the reply."""
    engine = database.engine
    assert isinstance(engine, AsyncEngine)
    started = time.perf_counter()
    body = MessageCreate(kind=MessageKind.customer, body=text)
    async with database.session() as session:
        posted = await conversations.post(session, workspace_id, conversation_id, body, CUSTOMER)
        message = await assistant_desk.customer_message(session, workspace_id, posted.id)
    assert message is not None
    result = await answer(engine, workspace_id, message)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed if result.replied else float("nan")


async def at_concurrency(database: Database, workspace_id: str, conversations_at_once: int,
                         messages: int) -> list[float]:  # fmt: skip
    """Run `messages` turns spread over conversations taking turns at once."""
    rounds = max(len(QUESTIONS), messages // conversations_at_once)
    samples: list[float] = []
    ids: list[str] = []
    for round_number in range(rounds):
        if round_number % len(QUESTIONS) == 0:  # "thanks" resolved the last ones: new chats
            ids = [await open_pending(database, workspace_id) for _ in range(conversations_at_once)]
        text = QUESTIONS[round_number % len(QUESTIONS)]
        samples += await asyncio.gather(
            *(one_turn(database, workspace_id, cid, text) for cid in ids)
        )
    return [sample for sample in samples if sample == sample]


def measure(label: str, url: str, messages: int) -> None:
    """Print the latency figures on one backend."""
    upgrade(url)

    async def run() -> None:
        database = Database(url)
        workspace_id = await setup(database)
        for count in CONCURRENCY:
            samples = await at_concurrency(database, workspace_id, count, messages)
            load = os.getloadavg()[0]
            print(
                f"{label} message in -> bot reply out, {count} conversations at once "
                f"({len(samples)} replies): p50 {percentile(samples, 0.5):.1f} ms, "
                f"p95 {percentile(samples, 0.95):.1f} ms, p99 {percentile(samples, 0.99):.1f} ms "
                f"(load {load:.1f})"
            )
        await database.dispose()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--postgres", default=os.environ.get("RAPPORT_TEST_DATABASE_URL"))
    args = parser.parse_args()
    configure_keyring([SECRET.encode()])
    load_tasks()
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    embedding_speed()
    models()
    label_text("warm up")
    with tempfile.TemporaryDirectory() as directory:
        measure("sqlite", f"sqlite+aiosqlite:///{directory}/bench.db", args.messages)
    if args.postgres:
        url, name = asyncio.run(fresh_postgres(args.postgres))
        try:
            measure("postgresql", url, args.messages)
        finally:
            asyncio.run(drop_postgres(args.postgres, name))


if __name__ == "__main__":
    main()
