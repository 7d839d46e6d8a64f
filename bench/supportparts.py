"""Where a chat message's CPU goes: the live path's steps and the jobs each message queues,
run in one process without sockets, timed by CPU (process_time: every thread, so the
labelling thread counts) and by wall clock.

Run alone: `.venv/bin/python bench/supportparts.py [--reuse PATH] [--chats N] [--rounds R]`.
It migrates a SQLite database (a fresh one, or `--reuse`'s file as bench/support.py fills
it), opens N widget chats and, per round, times per message: the widget's send (one unit of
work), the read back a widget does after a push (widget.messages), the jobs the customer
messages queued (routing, SLA, labelling and the assistant's turn, webhook fan-out), an
agent's reply (conversations.post), the widget's read back of that reply and the reply's
jobs; then label_text alone. The baseline in the
same run: one empty unit of work (BEGIN/COMMIT, the floor of any step)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from supportdb import forget_jobs, seed

SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


async def timed(name: str, count: int, step: Callable[[], Awaitable[Any]]) -> None:
    """Run `step` once and print its CPU and wall time per message."""
    cpu, wall = time.process_time(), time.perf_counter()
    await step()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{name:<34} cpu {cpu / count * 1000:7.2f} ms  wall {wall / count * 1000:7.2f} ms")


async def measure(url: str, chats: int, rounds: int) -> None:
    from rapport.assistant.labels import label_text
    from rapport.core.db import Database
    from rapport.domains import load_tasks
    from rapport.support.enums import MessageKind
    from rapport.support.schemas import Acting, MessageCreate
    from rapport.support.service import conversations
    from rapport.support.widget import widget
    from rapport.support.widget_schemas import WidgetMessageCreate, WidgetStart
    from rapport.worker.runner import Worker

    keys = await seed(url, SECRET, 1, reuse=True)
    await forget_jobs(url)
    load_tasks()
    database = Database(url)
    worker = Worker(database)
    visitors = []
    for _ in range(chats):
        async with database.session() as session:
            visitor, _ = await widget.start(session, WidgetStart(write_key=keys["write_key"]))
        visitors.append(visitor)
    sent: list[Any] = []

    async def send(number: int) -> None:
        sent.clear()
        for visitor in visitors:
            body = WidgetMessageCreate(
                client_id=f"message{number:06d}", body=f"Question {number}: where?"
            )
            async with database.session() as session:
                sent.append(await widget.send(session, visitor, body))

    async def read_back(after: int = -1) -> None:
        """The widget's read-back after a push: the customer's message (after=-1) or what
        came after it (after=0: the agent's reply)."""
        for visitor, one in zip(visitors, sent, strict=True):
            async with database.session() as session:
                conversation_id = one.message.conversation_id
                page = await widget.messages(
                    session, visitor, conversation_id, one.message.seq + after
                )
                assert page.items, "the read-back found nothing"

    async def jobs() -> None:
        await worker.run_pending()
        await asyncio.sleep(1.5)  # the assistant's turn runs after the job's commit
        await worker.run_pending()

    async def reply() -> None:
        body = MessageCreate(kind=MessageKind.reply, body="It is on its way.")
        for one in sent:
            async with database.session() as session:
                await conversations.post(
                    session, keys["workspace_id"], one.message.conversation_id, body,
                    Acting(actor="api_key:bench"),
                )  # fmt: skip

    async def empty() -> None:
        for _ in range(chats):
            async with database.session():
                pass

    await send(0)  # warm: models load, caches fill
    await jobs()
    for number in range(1, rounds + 1):
        print(f"round {number} ({chats} chats)")
        await timed("  empty unit of work (baseline)", chats, empty)
        await timed("  widget send", chats, lambda n=number: send(n))  # type: ignore[misc]
        await timed("  widget read back after a push", chats, read_back)
        await timed("  jobs of a customer message", chats, jobs)
        await timed("  agent reply (API)", chats, reply)
        await timed("  widget read back of the reply", chats, lambda: read_back(0))
        await timed("  jobs of an agent reply", chats, jobs)

    async def labels() -> None:
        for number in range(chats):
            label_text(f"Question {number}: where is my order?")

    await timed("label_text alone", chats, labels)
    await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reuse", metavar="PATH", help="a SQLite file bench/support.py filled")
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    from rapport.core.crypto import configure_keyring
    from rapport.db.migrate import upgrade

    configure_keyring([SECRET.encode()])
    with tempfile.TemporaryDirectory() as directory:
        path = Path(options.reuse).resolve() if options.reuse else Path(directory) / "parts.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        asyncio.run(measure(url, options.chats, options.rounds))


if __name__ == "__main__":
    main()
