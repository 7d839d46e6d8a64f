"""The assistant's speed: MiniLM sentences/s, and message in -> bot reply out at 1, 50 and
200 open conversations whose customers write at a human pace.

Run alone: `.venv/bin/python bench/assistant.py [--think S] [--duration S] [--postgres URL]
[--jobs] [--workers N]` (about three minutes on SQLite; PostgreSQL too with --postgres or
RAPPORT_TEST_DATABASE_URL; --sqlite-only or --postgres-only for one of them).

It prints, with the load average beside every figure (the machine may be shared):
  - embedding: MiniLM sentences/s and one sentence's p50/p95 for the ready int8 ONNX (the
    baseline: onnxruntime folds its weights back to float32) and for our per-channel int8
    export (rapport.nlp.export, the default the turns use; RAPPORT_MINILM=ready for the other);
  - per backend, a baseline: the bare unit of work that stores a customer message;
  - message in -> bot reply out (the message stored through the support desk in its own
    unit of work, then the assistant's turn as its job's after-commit step runs it: labels
    in a worker thread, knowledge search, dialogue, reply written and committed; the job
    queue's own wait is bench/jobs.py's figure and not included):
      * 1 conversation, messages back to back (nothing else running);
      * 50 and 200 open conversations: each customer sends its next message a think time
        after the bot's reply (exponential, mean --think, default 4 s), so the offered rate
        grows with the conversations (about N / think); offered and achieved messages/s and
        the p50/p95/p99 are printed, with the ratio of the p95 to the baseline's, and
        again for the messages due once every customer had arrived (they arrive over the
        first think time, each opening a chat: at 200, a rush of 50 new chats a second);
      * a stress figure, printed apart: the old lockstep burst, every conversation's message
        sent in the same instant each round (a queue of N messages, not a chat).
    A latency runs from the moment the message was sent (due a think time after the reply,
    or the burst's instant), not from when the event loop got round to sending it: a
    message waiting behind a busy loop waits as it would in the server's socket, and that
    wait counts (until 2026-12-05 it did not, which flattered a loop that ran long slices).
Turns run at most --lanes at a time, by default as many as the job worker runs at once
(RAPPORT_WORKER_CONCURRENCY, 4): a message waiting for a lane counts in its latency. The
store is not in a lane: it is the web request's, as in the server. Questions mix an order
status (with verification), shipping/returns/payment questions and a thank-you that ends the
chat (the customer then opens a new one); each question comes with a greeting and a name drawn
for it, so no two are the same text and MiniLM runs for each (the embedding cache would
otherwise answer every repeat: earlier runs of this bench measured turns that never ran the
model).

Topology (--topology, printed with the figures), by default production's for each backend
(docs/support.md): `worker` on PostgreSQL (the web server stores the message, a `rapport
worker` process runs the turn; here the bench's process stores it and sends the turn over a
pipe to a second process that runs it exactly as the job's after-commit step does, at most
--lanes at once), `process` on SQLite (jobs run in the serving process there: the turn runs
in the process that stored the message; until 2026-12-05 the store was inside the lane too,
and 8 turns ran at once).
CPU per turn adds both processes' CPU time (every thread); "texts a MiniLM call" shows how
many concurrent turns' messages shared one model call. `--workers N` runs N worker processes
where the turns run in one (as N `rapport worker`s beside the web server, against one
PostgreSQL): turns handed straight to them go to each in turn, and with --jobs each runs a
job worker claiming from the one queue; CPU per turn then adds every process's.

--jobs measures production's whole path instead of handing the turn straight to a lane: the
stored message's `message.created` queues `assistant.take_message` and the other subscribers'
jobs (SLA tracking, webhook fan-out), a real job worker claims and
runs them (`rapport.worker.Worker`, --lanes at once: in this process on SQLite, in the worker
process on PostgreSQL), and the turn runs in the take's after-commit step; the latency ends
when that turn's unit of work has committed. A chat's first message opens its conversation
there, timed, as the widget's first message does (without --jobs a "hi" opens it untimed and
no turn answers it).

Think time: a person reads a two-line reply and types the next message (40 characters at
3-4 characters/s) in 10-20 s; 4 s is a deliberately fast customer (a tapped "yes", a pasted
order number), so 200 conversations offer about 50 messages/s, several times a real crowd.
Target: p95 < 30 ms at 200 conversations.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from benchdb import drop_postgres, fresh_postgres
from rapport.assistant import tasks as assistant_tasks
from rapport.assistant.demo import DEMO_CUSTOMER_EMAIL
from rapport.assistant.demo import seed_demo as seed_assistant
from rapport.assistant.labels import label_text, models
from rapport.assistant.tasks import answer
from rapport.assistant.turn import TurnResult
from rapport.config import get_settings
from rapport.core.clock import utcnow
from rapport.core.collector import quiet_collector
from rapport.core.crypto import configure_keyring
from rapport.core.db import Database
from rapport.core.jobs import Job, JobStatus, Lease
from rapport.db.migrate import upgrade
from rapport.domains import load_tasks
from rapport.identity.audit import SYSTEM
from rapport.identity.service import workspaces
from rapport.knowledge.demo import seed_demo as seed_articles
from rapport.nlp.embeddings import (
    BatchingEmbedder,
    ModelFiles,
    OnnxEmbedder,
    installed_minilm,
    ready_minilm,
    shared_embedder,
)
from rapport.nlp.export import exported_minilm
from rapport.nlp.ports import Embedder
from rapport.support.assistant_desk import CustomerMessage, assistant_desk
from rapport.support.enums import ApiChannel, MessageKind
from rapport.support.schemas import Acting, ConversationCreate, MessageCreate
from rapport.support.service import conversations
from rapport.worker.runner import Worker

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
OPEN_CONVERSATIONS = (50, 200)


def percentile(values: list[float], share: float) -> float:
    """Return the value below which `share` of the values lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def load() -> str:
    """Return the 1-minute load average, for printing beside a figure."""
    return f"load {os.getloadavg()[0]:.1f}"


def spread(samples: list[float]) -> str:
    """Describe latencies in milliseconds."""
    if not samples:
        return "no replies"
    return (
        f"p50 {percentile(samples, 0.5):.1f} ms, p95 {percentile(samples, 0.95):.1f} ms, "
        f"p99 {percentile(samples, 0.99):.1f} ms"
    )


class Timed:
    """Wall and CPU time (every thread of the process) over a block."""

    def __enter__(self) -> Timed:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def embedding_rate(embedder: Embedder, sentences: list[str]) -> tuple[float, float, list[float]]:
    """Return sentences/s over `sentences` in one call (wall clock, then per CPU second: less
    sensitive to a shared machine), and one sentence's call times (ms)."""
    embedder.embed(sentences[:32])  # warm up
    with Timed() as timed:
        embedder.embed(sentences)
    single = []
    for sentence in sentences[:200]:
        started = time.perf_counter()
        embedder.embed([sentence])
        single.append((time.perf_counter() - started) * 1000)
    return len(sentences) / timed.wall, len(sentences) / timed.cpu, single


def embedding_speed() -> None:
    """Print MiniLM sentences/s and one sentence's latency: ours against the ready export."""
    sentences = [f"{question} ({number})" for number, question in
                 zip(range(512), itertools.cycle(QUESTIONS), strict=False)]  # fmt: skip
    ready = ready_minilm()
    if ready is None:
        print("embedding: MiniLM is not installed (run make setup); the hashed fallback serves")
        return
    exported = exported_minilm(ready.tokenizer.parent / "model.safetensors")
    ours = ModelFiles(exported, ready.tokenizer, alone=True) if exported else ready
    rates = {}
    for name, files in (("ready int8 ONNX (baseline)", ready), ("own int8 export", ours)):
        rate, cpu_rate, single = embedding_rate(OnnxEmbedder(files), sentences)
        rates[name] = (rate, cpu_rate)
        print(
            f"embedding, {name}, 1 thread: {rate:,.0f} sentences/s ({cpu_rate:,.0f} per CPU "
            f"second), one sentence p50 {statistics.median(single):.1f} ms, "
            f"p95 {percentile(single, 0.95):.1f} ms ({load()})"
        )
    if ours.onnx == ready.onnx:
        print("embedding: the export could not be built (pip install onnx)")
        return
    ours_rate, base_rate = rates["own int8 export"], rates["ready int8 ONNX (baseline)"]
    print(
        f"embedding: the own export does {ours_rate[0] / base_rate[0]:.1f}x the baseline's "
        f"sentences/s ({ours_rate[1] / base_rate[1]:.1f}x per CPU second)"
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


async def open_pending(database: Database, workspace_id: str, text: str = "hi") -> str:
    """Open a conversation the assistant owns, with `text` as its first message."""
    body = ConversationCreate(
        channel=ApiChannel.api, message=MessageCreate(kind=MessageKind.customer, body=text)
    )
    async with database.session() as session:
        conversation = await conversations.create(session, workspace_id, body, CUSTOMER)
        return conversation.id


async def _post(session: Any, workspace_id: str, conversation_id: str, text: str) -> Any:
    body = MessageCreate(kind=MessageKind.customer, body=text)
    return await conversations.post(session, workspace_id, conversation_id, body, CUSTOMER)


async def store(database: Database, workspace_id: str, conversation_id: str, text: str) -> Any:
    """The baseline unit of work: store a customer message through the support desk; return
    it as the assistant's turn reads it."""
    async with database.session() as session:
        posted = await _post(session, workspace_id, conversation_id, text)
        return await assistant_desk.customer_message(session, workspace_id, posted.id)


async def post(database: Database, workspace_id: str, conversation_id: str, text: str) -> None:
    """Store a customer message as the web request does and nothing more (its event queues
    the assistant's job)."""
    async with database.session() as session:
        await _post(session, workspace_id, conversation_id, text)


def watch_turns(report: Any) -> None:
    """Have `report(conversation_id, replied)` called after every assistant turn the job's
    after-commit step runs in this process (the turn itself unchanged). A customer of this
    bench waits for the reply before writing again, so a conversation has one turn at a time
    to wait for."""
    run_turn = assistant_tasks.answer

    async def answered(
        engine: AsyncEngine, workspace_id: str, message: CustomerMessage, lease: Lease | None
    ) -> TurnResult:
        result = await run_turn(engine, workspace_id, message, lease)
        report(message.conversation_id, result.replied)
        return result

    assistant_tasks.answer = answered


class Replies:
    """Outcomes by key (a request's number, "usage", or with --jobs a conversation's id),
    whichever comes first: the outcome or the one waiting for it."""

    def __init__(self) -> None:
        self.waiting: dict[Any, asyncio.Future[Any]] = {}
        self.early: dict[Any, Any] = {}

    def expect(self, key: Any) -> asyncio.Future[Any]:
        """Return a future for `key`'s outcome (already set if it came first)."""
        future = asyncio.get_running_loop().create_future()
        if key in self.early:
            future.set_result(self.early.pop(key))
        else:
            self.waiting[key] = future
        return future

    def arrived(self, key: Any, value: Any) -> None:
        """Record `key`'s outcome (on the event loop's thread)."""
        future = self.waiting.pop(key, None)
        if future is None:
            self.early[key] = value
        else:
            future.set_result(value)


LANES: list[asyncio.Semaphore] = []


class InProcess:
    """The turns run in this process, as the message's job's after-commit step runs them."""

    name = "one process (the turn runs in the process that stored the message)"
    through_jobs = False

    def __init__(self, database: Database) -> None:
        engine = database.engine
        assert isinstance(engine, AsyncEngine)
        self.engine = engine

    async def answer(self, workspace_id: str, message: Any) -> bool:
        """Run the turn in one of the lanes; tell whether the assistant replied."""
        async with LANES[0]:
            return (await answer(self.engine, workspace_id, message)).replied

    async def outcome(self, conversation_id: str) -> bool:
        """Only a job worker's turns are waited for this way."""
        raise TypeError("this topology hands the turn straight to a lane")

    async def close(self) -> None:
        """Nothing runs beside the measuring."""

    async def usage(self) -> tuple[float, int, int]:
        """Return CPU seconds used elsewhere (none), texts embedded and model calls."""
        return 0.0, *embedding_calls()


class JobsInProcess(InProcess):
    """Production's path in one process: the stored message's event queues the assistant's
    job (and the other subscribers'), a job worker in this process claims and runs them, at
    most --lanes at once, and the turn runs in the job's after-commit step."""

    name = (
        "one process, through the job queue (the message's job claimed and run by a job "
        "worker in the process that stored it)"
    )
    through_jobs = True

    def __init__(self, database: Database, lanes: int) -> None:
        super().__init__(database)
        self.replies = Replies()
        self.stop = asyncio.Event()
        watch_turns(self.replies.arrived)
        worker = Worker(database, concurrency=lanes)
        self.task = asyncio.create_task(worker.run_forever(self.stop))

    async def outcome(self, conversation_id: str) -> bool:
        """Wait for the turn of the conversation's latest message; tell whether the assistant
        replied."""
        return bool(await self.replies.expect(conversation_id))

    async def close(self) -> None:
        """Stop the job worker."""
        self.stop.set()
        await self.task


def embedding_calls() -> tuple[int, int]:
    """Return the texts the turns embedded and the model calls that took them."""
    inner = shared_embedder().inner
    if isinstance(inner, BatchingEmbedder):
        return inner.texts, inner.calls
    return 0, 0


def worker_main(url: str, lanes: int, connection: Connection, jobs: bool) -> None:
    """The worker process: run the turns it is sent, at most `lanes` at once (or, with
    `jobs`, a job worker as `rapport worker` runs one)."""
    configure_keyring([SECRET.encode()])
    load_tasks()
    models()
    label_text("warm up")
    quiet_collector()  # as `rapport worker` does once it has started
    asyncio.run((serve_jobs if jobs else serve_turns)(url, lanes, connection))


async def serve_jobs(url: str, lanes: int, connection: Connection) -> None:
    """Run a job worker (`lanes` at once) until told to stop; report each assistant turn's
    outcome by conversation id; answer "usage" with CPU and batching."""
    database = Database(url)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def usage() -> None:
        connection.send(("usage", (time.process_time(), *embedding_calls())))

    def read() -> None:
        while True:
            request = connection.recv()
            if request is None:
                loop.call_soon_threadsafe(stop.set)
                return
            loop.call_soon_threadsafe(usage)

    watch_turns(lambda conversation_id, replied: connection.send((conversation_id, replied)))
    threading.Thread(target=read, daemon=True).start()
    await Worker(database, concurrency=lanes).run_forever(stop)
    await database.dispose()


async def serve_turns(url: str, lanes: int, connection: Connection) -> None:
    """Answer (number, workspace, message) requests; "usage" asks for CPU and batching."""
    database = Database(url)
    engine = database.engine
    assert isinstance(engine, AsyncEngine)
    loop = asyncio.get_running_loop()
    requests: asyncio.Queue[Any] = asyncio.Queue()
    gate = asyncio.Semaphore(lanes)

    def read() -> None:
        while True:
            request = connection.recv()
            loop.call_soon_threadsafe(requests.put_nowait, request)
            if request is None:
                return

    async def turn(number: int, workspace_id: str, message: Any) -> None:
        async with gate:
            result = await answer(engine, workspace_id, message)
        connection.send((number, result.replied))

    threading.Thread(target=read, daemon=True).start()
    running: set[asyncio.Task[None]] = set()
    while (request := await requests.get()) is not None:
        if request == "usage":
            connection.send(("usage", (time.process_time(), *embedding_calls())))
            continue
        task = asyncio.create_task(turn(*request))
        running.add(task)
        task.add_done_callback(running.discard)
    await database.dispose()


class WorkerProcess:
    """The turns run in a second process (as a `rapport worker` beside the web server would
    run them), sent there over a pipe once the message is stored; the job queue's wait is
    bench/jobs.py's figure and not included. With --jobs it runs a job worker instead, and
    the turns come to it through the queue as in production."""

    name = (
        "two processes (the message stored in this one, the turn run in a worker process, "
        "at most --lanes at once there)"
    )

    def __init__(
        self,
        url: str,
        lanes: int,
        jobs: bool = False,
        replies: Replies | None = None,
        numbers: Iterator[int] | None = None,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=worker_main, args=(url, lanes, child, jobs), daemon=True
        )
        self.process.start()
        self.through_jobs = jobs
        if jobs:
            self.name = (
                "two processes, through the job queue (the message stored in this one, its "
                "job claimed and run by a job worker in a second process, at most --lanes at once)"
            )
        # Shared by several worker processes (--workers): any of them may run a turn.
        self.numbers = numbers or itertools.count()
        self.replies = replies or Replies()
        self.loop: asyncio.AbstractEventLoop | None = None

    def _read(self) -> None:
        while True:
            try:
                key, value = self.connection.recv()
            except (EOFError, OSError):
                return
            assert self.loop is not None
            self.loop.call_soon_threadsafe(self._resolve, key, value)

    def _resolve(self, key: Any, value: Any) -> None:
        self.replies.arrived(key, value)

    def _listen(self) -> None:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            threading.Thread(target=self._read, daemon=True).start()

    async def _ask(self, key: Any, request: Any) -> Any:
        self._listen()
        future = self.replies.expect(key)
        self.connection.send(request)
        return await future

    async def outcome(self, conversation_id: str) -> bool:
        """Wait for the worker's turn of the conversation's latest message (its job's); tell
        whether the assistant replied."""
        self._listen()
        return bool(await self.replies.expect(conversation_id))

    async def close(self) -> None:
        """End the worker process."""
        self.connection.send(None)
        self.process.join(timeout=30)

    async def answer(self, workspace_id: str, message: Any) -> bool:
        """Send the turn to the worker process; tell whether the assistant replied."""
        number = next(self.numbers)
        return bool(await self._ask(number, (number, workspace_id, message)))

    async def usage(self) -> tuple[float, int, int]:
        """Return the worker's CPU seconds, texts embedded and model calls."""
        cpu, texts, calls = await self._ask("usage", "usage")
        return float(cpu), int(texts), int(calls)


class WorkerProcesses:
    """Several worker processes (--workers), as several `rapport worker`s beside the web
    server run against one PostgreSQL: turns handed straight to them go to each in turn;
    with --jobs each runs a job worker claiming from the one queue."""

    def __init__(self, url: str, lanes: int, jobs: bool, count: int) -> None:
        replies, numbers = Replies(), itertools.count()
        self.processes = [WorkerProcess(url, lanes, jobs, replies, numbers) for _ in range(count)]
        self.replies = replies
        self.through_jobs = jobs
        self.name = f"{count} worker processes, each: {self.processes[0].name}"
        self.turn = itertools.cycle(self.processes)

    async def answer(self, workspace_id: str, message: Any) -> bool:
        """Send the turn to the next worker process; tell whether the assistant replied."""
        return await next(self.turn).answer(workspace_id, message)

    async def outcome(self, conversation_id: str) -> bool:
        """Wait for the turn of the conversation's latest message, whichever worker ran it."""
        for process in self.processes:
            process._listen()
        return bool(await self.replies.expect(conversation_id))

    async def usage(self) -> tuple[float, int, int]:
        """Return the worker processes' CPU seconds, texts embedded and model calls."""
        total = [0.0, 0, 0]
        for process in self.processes:  # one at a time: their answers share the key "usage"
            for index, value in enumerate(await process.usage()):
                total[index] += value
        return total[0], int(total[1]), int(total[2])

    async def close(self) -> None:
        """End the worker processes."""
        for process in self.processes:
            await process.close()


TURNS: list[InProcess | WorkerProcess | WorkerProcesses] = []


async def one_turn(
    database: Database, workspace_id: str, conversation_id: str, text: str, sent: float
) -> float:
    """Store a customer message, run the assistant's turn; return milliseconds from `sent`
    (when the customer sent it, `time.perf_counter()`) to the reply (NaN if the assistant
    did not reply). The clock starts when the message was sent, not when this coroutine got
    the event loop: a message waits for a busy loop as it would in the server's socket, and
    that wait counts. The store is the web request's; the turn then waits for one of the
    --lanes (the job worker's lanes), and that wait counts in the latency too."""
    message = await store(database, workspace_id, conversation_id, text)
    assert message is not None
    replied = await TURNS[0].answer(workspace_id, message)
    elapsed = (time.perf_counter() - sent) * 1000
    return elapsed if replied else float("nan")


async def job_turn(
    database: Database, workspace_id: str, conversation_id: str | None, text: str, sent: float
) -> tuple[str, float]:
    """Production's path (--jobs): store the message as the web request does (a chat's first
    message opens the conversation), then wait for the job worker's turn; return the
    conversation and the milliseconds from `sent` to the reply (NaN without one)."""
    if conversation_id is None:
        conversation_id = await open_pending(database, workspace_id, text)
    else:
        await post(database, workspace_id, conversation_id, text)
    replied = await TURNS[0].outcome(conversation_id)
    elapsed = (time.perf_counter() - sent) * 1000
    return conversation_id, elapsed if replied else float("nan")


GREETINGS = ("Hi", "Hello", "Hey", "Good morning", "Hi there", "Good evening")
SYLLABLES = ("ka", "ri", "na", "lo", "me", "su", "ta", "vi", "do", "ra", "el", "mi", "an", "to",
             "lu", "be", "sa", "ni", "co", "jo", "ma", "pe", "ul", "ia")  # fmt: skip
_WORDING = random.Random(0)


def worded(question: str) -> str:
    """Return the question as one customer writes it: a greeting and a name (varied, so no two
    messages are the same text and the model runs for each, as with real customers); a reply
    of an email address or a thank-you stays as it is (those do repeat)."""
    if "@" in question or question == "thanks":
        return question
    name = "".join(_WORDING.choice(SYLLABLES) for _ in range(3)).capitalize()
    return f"{_WORDING.choice(GREETINGS)}, {name} here. {question}"


class Customer:
    """One customer's chat script: the questions in turn; after the thank-you, a new chat."""

    def __init__(self, database: Database, workspace_id: str) -> None:
        self.database, self.workspace_id = database, workspace_id
        self.conversation_id: str | None = None
        self.step = 0

    async def open(self) -> None:
        """Open the chat the next message goes to, if it needs a new one: the first, or the
        next after a thank-you (not timed), with a "hi" the assistant never answers. Once
        per chat: until 2026-12-05 `send` opened a second one for every chat's first message,
        inside its latency (one message in six carried a conversation's creation). Through the
        job queue (--jobs) nothing is opened ahead: the chat's first message opens it, timed,
        as the widget's first message does, since its job would answer a "hi" too."""
        if self.conversation_id is None and not TURNS[0].through_jobs:
            self.conversation_id = await open_pending(self.database, self.workspace_id)

    async def send(self, sent: float | None = None) -> float:
        """Send the next message (sent at `sent`, or now) and wait for the reply; return its
        latency in ms."""
        await self.open()
        text = worded(QUESTIONS[self.step % len(QUESTIONS)])
        self.step += 1
        started = time.perf_counter() if sent is None else sent
        if TURNS[0].through_jobs:
            self.conversation_id, latency = await job_turn(
                self.database, self.workspace_id, self.conversation_id, text, started
            )
        else:
            assert self.conversation_id is not None
            latency = await one_turn(
                self.database, self.workspace_id, self.conversation_id, text, started
            )
        if self.step % len(QUESTIONS) == 0:
            self.conversation_id = None  # the thank-you ended this chat
        return latency


async def settled(database: Database, patience: float = 120.0) -> None:
    """Wait until no job is due or running (--jobs: each run starts with an empty queue, not
    behind the jobs of the run before, such as the baseline's 100 messages' turns)."""
    deadline = time.perf_counter() + patience
    while time.perf_counter() < deadline:
        async with database.session() as session:
            busy = await session.scalar(
                select(func.count())
                .select_from(Job)
                .where(
                    (Job.status == JobStatus.running)
                    | ((Job.status == JobStatus.queued) & (Job.run_at <= utcnow()))
                )
            )
        if not busy:
            return
        await asyncio.sleep(0.2)


def replied(samples: list[float]) -> list[float]:
    """Drop the NaN of turns the assistant did not answer."""
    return [sample for sample in samples if sample == sample]


async def baseline(database: Database, workspace_id: str, count: int) -> list[float]:
    """Store `count` customer messages one after another; return each one's milliseconds."""
    conversation_id = await open_pending(database, workspace_id)
    samples = []
    for number in range(count):
        started = time.perf_counter()
        await store(database, workspace_id, conversation_id, f"{QUESTIONS[number % 5]} {number}")
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def job_rows(database: Database) -> int:
    """Count the job rows ever queued (done ones stay until the nightly prune)."""
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(Job))).scalar_one())


async def back_to_back(database: Database, workspace_id: str, count: int) -> list[float]:
    """One conversation, each message sent as soon as the reply is in."""
    customer = Customer(database, workspace_id)
    return replied([await customer.send() for _ in range(count)])


async def open_conversations(
    database: Database, workspace_id: str, count: int, think: float, duration: float
) -> tuple[list[float], int, list[float]]:
    """`count` customers for `duration` seconds, each writing a think time (exponential,
    mean `think`) after the bot's reply; return the latencies, the messages sent, and the
    latencies of the messages due once every customer had arrived (customers arrive over the
    first `think` seconds, each opening a chat: at 200 conversations and 4 s, 50 chats a
    second, several times the rate at which chats open later, one in six messages)."""
    rng = random.Random(count)
    started = time.perf_counter()
    deadline = started + duration
    samples: list[float] = []
    arrived: list[float] = []

    async def chat(customer: Customer) -> None:
        # Customers arrive spread out, not at once. Each message is due a think time after
        # the reply; its latency runs from then, however late the loop wakes this customer.
        await asyncio.sleep(rng.uniform(0, think))
        await customer.open()  # on arrival, not all 200 in the first instant
        due = time.perf_counter()
        while due < deadline:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            samples.append(await customer.send(due))
            if due >= started + think:
                arrived.append(samples[-1])
            await customer.open()  # after a thank-you, the next chat opens while they think
            # No think time past the end: the run's wall clock (and the achieved rate divided
            # by it) ends with the last reply, not with the longest pause of 200 customers
            # (about think x ln 200, 21 s at 4 s: it halved the rate printed).
            due = time.perf_counter() + rng.expovariate(1 / think)

    customers = [Customer(database, workspace_id) for _ in range(count)]
    await asyncio.gather(*(chat(customer) for customer in customers))
    return replied(samples), len(samples), replied(arrived)


async def lockstep(database: Database, workspace_id: str, count: int, rounds: int) -> list[float]:
    """The stress burst: every conversation's next message sent in the same instant."""
    customers = [Customer(database, workspace_id) for _ in range(count)]
    samples: list[float] = []
    for _ in range(rounds):
        await asyncio.gather(*(customer.open() for customer in customers))
        sent = time.perf_counter()
        samples += await asyncio.gather(*(customer.send(sent) for customer in customers))
    return replied(samples)


class Usage:
    """CPU (this process and the worker process, if any) and embedding batches over a run."""

    def __init__(self, turns: InProcess | WorkerProcess | WorkerProcesses) -> None:
        self.turns = turns

    async def __aenter__(self) -> Usage:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        self.other, self.texts, self.calls = await self.turns.usage()
        return self

    async def __aexit__(self, *_: object) -> None:
        other, texts, calls = await self.turns.usage()
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu + other - self.other
        self.texts, self.calls = texts - self.texts, calls - self.calls

    def describe(self, turns: int) -> str:
        """CPU per turn (both processes) and the texts each MiniLM call carried."""
        batches = f", {self.texts / self.calls:.1f} texts a MiniLM call" if self.calls else ""
        return f"CPU {self.cpu / max(turns, 1) * 1000:.1f} ms a turn{batches}"


def measure(
    label: str,
    url: str,
    think: float,
    duration: float,
    rounds: int,
    lanes: int,
    worker: bool,
    jobs: bool,
    workers: int = 1,
) -> None:
    """Print the latency figures on one backend."""
    upgrade(url)

    async def run() -> None:
        LANES[:] = [asyncio.Semaphore(lanes)]
        database = Database(url)
        turns: InProcess | WorkerProcess | WorkerProcesses
        if worker and workers > 1:
            turns = WorkerProcesses(url, lanes, jobs, workers)
        elif worker:
            turns = WorkerProcess(url, lanes, jobs)
        else:
            turns = JobsInProcess(database, lanes) if jobs else InProcess(database)
        TURNS[:] = [turns]
        print(f"{label} topology: {turns.name}")
        workspace_id = await setup(database)
        await back_to_back(database, workspace_id, len(QUESTIONS))  # warm up
        with Timed() as timed:
            stored = await baseline(database, workspace_id, 100)
        base = percentile(stored, 0.95)
        print(
            f"{label} baseline, store one customer message: {spread(stored)}; CPU "
            f"{timed.cpu / len(stored) * 1000:.1f} ms a message ({load()})"
        )
        if turns.through_jobs:
            await settled(database)
        queued, sent = await job_rows(database), 10 * len(QUESTIONS)
        async with Usage(turns) as used:
            samples = await back_to_back(database, workspace_id, sent)
        if turns.through_jobs:
            await settled(database)
        queued = (await job_rows(database) - queued) / sent
        print(
            f"{label} message in -> bot reply out, 1 conversation back to back "
            f"({len(samples)} replies): {spread(samples)}; p95 "
            f"{percentile(samples, 0.95) / base:.1f}x the baseline's; "
            f"{used.describe(len(samples))}; {queued:.2f} jobs queued a message ({load()})"
        )
        for count in OPEN_CONVERSATIONS:
            if turns.through_jobs:
                await settled(database)
            async with Usage(turns) as used:
                samples, sent, arrived = await open_conversations(
                    database, workspace_id, count, think, duration
                )
            print(
                f"{label} message in -> bot reply out, {count} open conversations, think "
                f"{think:g} s: offered {count / think:.1f} messages/s if replies were "
                f"instant, achieved {sent / used.wall:.1f}/s ({len(samples)} replies to {sent} "
                f"messages): "
                f"{spread(samples)}; p95 {percentile(samples, 0.95) / base:.1f}x the "
                f"baseline's; {used.describe(sent)} ({load()})"
            )
            print(
                f"  of which the {len(arrived)} replies to messages due after the "
                f"{think:g} s in which the customers arrived: {spread(arrived)}"
            )
        for count in OPEN_CONVERSATIONS:
            if turns.through_jobs:
                await settled(database)
            with Timed() as timed:
                samples = await lockstep(database, workspace_id, count, rounds)
            print(
                f"{label} stress, lockstep burst of {count} messages at once x {rounds} "
                f"rounds ({len(samples)} replies, {len(samples) / timed.wall:.1f}/s): "
                f"{spread(samples)} ({load()})"
            )
        await turns.close()
        await database.dispose()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--think", type=float, default=4.0, help="mean think time, seconds")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per open run")
    parser.add_argument("--rounds", type=int, default=len(QUESTIONS), help="lockstep rounds")
    parser.add_argument(
        "--lanes",
        type=int,
        default=get_settings().worker_concurrency,
        help="turns running at once (default: the job worker's, RAPPORT_WORKER_CONCURRENCY or 4)",
    )
    parser.add_argument("--postgres", default=os.environ.get("RAPPORT_TEST_DATABASE_URL"))
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgres-only", action="store_true")
    parser.add_argument(
        "--topology",
        choices=("auto", "worker", "process"),
        default="auto",
        help="worker: turns run in a second process (web + rapport worker); process: in the "
        "process that stores the message; auto (default): process on SQLite, worker on "
        "PostgreSQL, as Rapport deploys them",
    )
    parser.add_argument(
        "--jobs",
        action="store_true",
        help="production's whole path: the stored message's event queues the assistant's job "
        "(and the other subscribers'), a job worker claims and runs it (in this process on "
        "SQLite, in the worker process on PostgreSQL, --lanes at once), the turn runs in the "
        "job's after-commit step; without it the turn is handed straight to a lane",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes where the turns run in worker processes (PostgreSQL, or "
        "--topology worker), each with --lanes; default 1",
    )
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.postgres_only and not args.postgres:
        parser.error("--postgres-only needs --postgres URL or RAPPORT_TEST_DATABASE_URL")
    # auto: SQLite runs jobs in the serving process, PostgreSQL in a worker process.
    sqlite_worker, postgres_worker = args.topology == "worker", args.topology != "process"
    configure_keyring([SECRET.encode()])
    load_tasks()
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"think time: exponential, mean {args.think:g} s after each reply; "
        f"at most {args.lanes} turns at once"
    )
    embedding_speed()
    files = installed_minilm()
    print(f"the turns embed with: {files.onnx if files else 'the hashed fallback'}")
    models()
    label_text("warm up")
    quiet_collector()  # as the server does once it has started (core/collector.py)
    if not args.postgres_only:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite+aiosqlite:///{directory}/bench.db"
            measure(
                "sqlite",
                url,
                args.think,
                args.duration,
                args.rounds,
                args.lanes,
                sqlite_worker,
                args.jobs,
                args.workers,
            )
    if args.postgres and not args.sqlite_only:
        url, name = asyncio.run(fresh_postgres(args.postgres))
        try:
            measure(
                "postgresql",
                url,
                args.think,
                args.duration,
                args.rounds,
                args.lanes,
                postgres_worker,
                args.jobs,
                args.workers,
            )
        finally:
            asyncio.run(drop_postgres(args.postgres, name))


if __name__ == "__main__":
    main()
