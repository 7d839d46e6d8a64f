"""A busy shop's support desk: chat delivery latency and the inbox page over a big database.

Run alone: `.venv/bin/python bench/support.py [--conversations N] [--seconds S] [--rate R]
[--warmup S] [--widgets W] [--consoles C] [--workers K] [--postgres URL --redis URL --processes P]
[--reuse PATH]`.

`--reuse PATH` keeps the filled database: a SQLite file (or, with --postgres, a database name
next to the admin URL's) filled on the first run and only topped up to N afterwards, so a
run at 1,000,000 conversations fills once (jobs an earlier run left are deleted first).
It prints the load average before and after (figures from a busy machine are not latency
figures) and the servers' CPU time per message handled, which depends far less on the load.

It migrates a fresh database (SQLite by default; PostgreSQL with --postgres), fills it with N
conversations by bulk executemany (not the API), then starts P real `rapport serve` processes
(over Redis when P > 1) and K `rapport worker` processes beside them (the servers then serve
without their in-process worker; default 1 on PostgreSQL, the deployment docs/support.md
recommends there on two or more cores; default 0 on SQLite, where the servers run the jobs
themselves, as `rapport serve` alone does: a worker in another process starves on SQLite's
one writer, see docs/support.md) and:
  - W widget WebSockets (default 200, from distinct client addresses) each keep one chat and
    write at a steady pace; C agent consoles (default 20) listen on the inbox topic; agents
    answer every customer message through the API, spread over the processes;
  - R messages a second in all (default 40: customer and agent halves; a chat of 10 messages
    means R=40 is 345,600 conversations a day, over three times the 100,000 target, which
    is R=12);
  - prints messages/s handled, p50/p95/p99 of customer -> console delivery (every console,
    pushed through the hub, possibly another process) and agent -> widget delivery (stored,
    pushed, read back by the widget's connection and sent);
  - the baseline, in the same run and under the same load: a widget `ping` -> `pong` round
    trip through the same server (a bare WebSocket echo: no database, no hub), as a ratio;
    with --redis also the hub's hop alone (publish -> receive between two hubs over Redis);
  - then the inbox page (`/console/inbox`, open conversations, and `?status=any`) time with
    N conversations in the database, p50/p95 of sequential loads, and the bulk insert rate.
Everything is measured after a warm-up under the same load (--warmup S, default 10: the
labelling models load, caches fill). It prints who ran the jobs each message queues
(routing, SLA, labelling, webhooks) and whether they kept up (jobs done a second, jobs
waiting at the end and the most waiting during the load), and the CPU per message of the
servers and of the workers apart.
`--workers 0 --no-worker` runs no jobs at all (the live path alone; they pile up).
Targets: SQLite, one process: delivery p95 < 30 ms, inbox page p95 < 200 ms
at 1,000,000; PostgreSQL, two processes over Redis: delivery p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.processes import ServerProcess, serve_processes, server_environment

from benchdb import drop_postgres, fresh_postgres
from supportdb import conversation_count, fill_conversations, forget_jobs, job_counts, seed

SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
MESSAGES_PER_CONVERSATION = 10
INBOX_LOADS = 40
# The clients send X-Forwarded-For: each visitor and agent has an address of its own, as on
# the internet, so per-address limits count them apart.
CLIENTS_BY_ADDRESS = {"RAPPORT_FORWARDED_ALLOW_IPS": "127.0.0.1"}


@dataclass
class Samples:
    """Send and receive times by message id, and the figures measured."""

    sent: dict[str, float] = field(default_factory=dict)
    to_console: dict[str, list[float]] = field(default_factory=dict)
    to_widget: dict[str, float] = field(default_factory=dict)
    echo: list[float] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    handled: int = 0
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)

    def forget(self) -> None:
        """Start counting afresh (the warm-up is over)."""
        for name in ("sent", "to_console", "to_widget", "echo", "waiting", "errors"):
            getattr(self, name).clear()
        self.handled = 0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def address(number: int) -> dict[str, str]:
    """A client address of its own (a shop's visitors come from many)."""
    return {"x-forwarded-for": f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"}


class Widget:
    """One visitor's chat: writes on a pace, records the agent's answers as they arrive."""

    def __init__(self, number: int, server: ServerProcess, write_key: str, samples: Samples):
        self.number, self.server, self.write_key, self.samples = number, server, write_key, samples
        self.socket: ClientConnection | None = None
        self.conversation_id: str | None = None
        self.acked: asyncio.Queue[str] = asyncio.Queue()
        self.pongs: asyncio.Queue[float] = asyncio.Queue()
        self.counter = itertools.count()
        self.pending = 0.0

    async def open(self) -> None:
        self.socket = await connect(
            f"{self.server.ws_url}/widget/ws", additional_headers=address(self.number)
        )
        await self.socket.send(json.dumps({"type": "hello", "write_key": self.write_key}))
        ready = json.loads(await self.socket.recv())
        assert ready["type"] == "ready", ready

    async def read(self) -> None:
        assert self.socket is not None
        async for raw in self.socket:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind = frame["type"]
            if kind == "message":
                message = frame["message"]
                self.conversation_id = message["conversation_id"]
                if message["author_type"] == "customer":
                    self.samples.sent.setdefault(message["id"], self.pending)
                else:
                    self.samples.to_widget.setdefault(message["id"], now)
            elif kind == "ack":
                self.samples.handled += 1
                await self.acked.put(frame["conversation_id"])
            elif kind == "pong":
                await self.pongs.put(now)
            elif kind == "error":
                self.samples.errors.append(f"widget: {frame.get('error')}")

    async def write(self) -> str:
        """Send one customer message; return its conversation once acknowledged."""
        assert self.socket is not None
        self.pending = time.perf_counter()
        client_id = f"w{self.number:04d}m{next(self.counter):06d}"
        body = f"Question {client_id}: where is my order?"
        await self.socket.send(
            json.dumps({"type": "message", "client_id": client_id, "body": body})
        )
        return await asyncio.wait_for(self.acked.get(), 60)

    async def ping(self) -> None:
        assert self.socket is not None
        started = time.perf_counter()
        await self.socket.send(json.dumps({"type": "ping"}))
        self.samples.echo.append(await asyncio.wait_for(self.pongs.get(), 60) - started)


async def console(server: ServerProcess, token: str, samples: Samples, stop: asyncio.Event):
    """An agent's console socket on the inbox topic: note when each customer message lands."""
    url = f"{server.ws_url}/ws?topic=conversations"
    async with connect(url, additional_headers={"cookie": f"rapport_session={token}"}) as socket:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(socket.recv(), 1)
            except TimeoutError:
                continue
            now = time.perf_counter()
            push = json.loads(raw)
            if push.get("type") == "message.created" and push.get("author_type") == "customer":
                samples.to_console.setdefault(push["message_id"], []).append(now)


async def agent(
    number: int, servers: list[ServerProcess], api_key: str, work: asyncio.Queue[str],
    samples: Samples, stop: asyncio.Event,
) -> None:  # fmt: skip
    """Answer waiting conversations through the API, on every process in turn."""
    headers = {"Authorization": f"Bearer {api_key}", **address(100_000 + number)}
    clients = [httpx.AsyncClient(base_url=s.url, headers=headers, timeout=60) for s in servers]
    try:
        for turn in itertools.count():
            if stop.is_set():
                return
            try:
                conversation_id = await asyncio.wait_for(work.get(), 1)
            except TimeoutError:
                continue
            started = time.perf_counter()
            answer = await clients[turn % len(clients)].post(
                f"/api/v1/conversations/{conversation_id}/messages",
                json={"kind": "reply", "body": "It is on its way, arriving tomorrow."},
            )
            if answer.status_code != 201:
                samples.errors.append(f"agent: {answer.status_code} {answer.text[:120]}")
                continue
            samples.sent[answer.json()["id"]] = started
            samples.handled += 1
    finally:
        for client in clients:
            await client.aclose()


async def visitor(
    widget: Widget, interval: float, work: asyncio.Queue[str], stop: asyncio.Event
) -> None:
    """Write every `interval` seconds (a random start), and ping between messages."""
    await asyncio.sleep(random.uniform(0, interval))
    while not stop.is_set():
        try:
            conversation_id = await widget.write()
        except TimeoutError:
            widget.samples.errors.append("widget: no ack within 60 s")
            continue
        await work.put(conversation_id)
        await asyncio.sleep(interval / 2)
        await widget.ping()
        await asyncio.sleep(interval / 2)


async def job_backlog(url: str, samples: Samples, stop: asyncio.Event) -> None:
    """Note every 2 seconds how many jobs wait (queued and due, or running)."""
    while not stop.is_set():
        counts = await job_counts(url)
        samples.waiting.append(counts["queued"] + counts["running"])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 2)


async def chat_load(
    servers: list[ServerProcess],
    keys: dict[str, Any],
    options: argparse.Namespace,
    url: str,
    warmed: Callable[[], None],
) -> Samples:
    """Run the widgets, consoles and agents for the warm-up seconds (models load, caches
    fill), call `warmed`, then for the given seconds; return what was seen after warming."""
    samples, stop, work = Samples(), asyncio.Event(), asyncio.Queue[str]()
    widgets = [
        Widget(n, servers[n % len(servers)], keys["write_key"], samples)
        for n in range(options.widgets)
    ]
    for group in range(0, len(widgets), 20):  # the handshakes, 20 at a time
        await asyncio.gather(*(w.open() for w in widgets[group : group + 20]))
    tasks = [asyncio.create_task(w.read()) for w in widgets]
    tokens = keys["tokens"]
    tasks += [
        asyncio.create_task(console(servers[n % len(servers)], tokens[n], samples, stop))
        for n in range(options.consoles)
    ]
    await asyncio.sleep(1)  # every console subscribed
    tasks += [
        asyncio.create_task(agent(n, servers, keys["api_key"], work, samples, stop))
        for n in range(options.consoles)
    ]
    interval = options.widgets / (options.rate / 2)
    load = [asyncio.create_task(visitor(w, interval, work, stop)) for w in widgets]
    load.append(asyncio.create_task(job_backlog(url, samples, stop)))
    await asyncio.sleep(options.warmup)
    # Warm means the jobs have caught up once (a worker loads the labelling models on its
    # first job): at most a second's worth of messages' jobs waiting, or give up after 120 s.
    warming = time.perf_counter()
    while time.perf_counter() - warming < 120 and (
        not samples.waiting or samples.waiting[-1] > 5 * options.rate
    ):
        await asyncio.sleep(1)
    backlog = samples.waiting[-1] if samples.waiting else 0
    print(
        f"warm-up {options.warmup + time.perf_counter() - warming:.0f} s, "
        f"{backlog} jobs waiting when it ended"
    )
    samples.forget()
    warmed()
    started = time.perf_counter()
    await asyncio.sleep(options.seconds)
    stop.set()
    elapsed = time.perf_counter() - started
    for task in load:
        task.cancel()
    await asyncio.sleep(2)  # the last deliveries land
    for task in tasks:
        task.cancel()
    for widget in widgets:
        if widget.socket is not None:
            await widget.socket.close()
    samples.elapsed = elapsed
    return samples


async def inbox_times(server: ServerProcess, token: str) -> dict[str, list[float]]:
    """Load the inbox pages one after another; return their times in ms."""
    pages = {"inbox (open)": "/console/inbox", "inbox (any status)": "/console/inbox?status=any"}
    times: dict[str, list[float]] = {}
    cookies = {"rapport_session": token}
    async with httpx.AsyncClient(base_url=server.url, cookies=cookies, timeout=120) as client:
        for name, path in pages.items():
            for _ in range(INBOX_LOADS):
                started = time.perf_counter()
                page = await client.get(path)
                times.setdefault(name, []).append((time.perf_counter() - started) * 1000)
                if page.status_code != 200:
                    raise RuntimeError(f"{path} answered {page.status_code}")
    return times


async def redis_hop(url: str, count: int = 300) -> list[float]:
    """Time publish -> receive between two hubs over Redis (the hop the processes add)."""
    from rapport.core.realtime_redis import RedisHub

    sender, receiver = RedisHub(url), RedisHub(url)
    for hub in (sender, receiver):
        hub.start()
        await asyncio.wait_for(hub.connected.wait(), 30)
    times = []
    async with receiver.open("bench", "hop") as subscription:
        for number in range(count):
            started = time.perf_counter()
            await sender.publish("bench", "hop", {"n": number})
            await asyncio.wait_for(subscription.queue.get(), 30)
            times.append((time.perf_counter() - started) * 1000)
    await sender.stop()
    await receiver.stop()
    return times


async def kept_postgres(admin_url: str, name: str) -> str:
    """Return the URL of the database `name` next to `admin_url`'s, created if missing."""
    import asyncpg

    connection = await asyncpg.connect(admin_url.replace("+asyncpg", ""))
    exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    if not exists:
        await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def cpu_seconds(processes: list[subprocess.Popen[bytes]]) -> float:
    """Return the CPU time the processes have used (user + system, Linux)."""
    total = 0.0
    for process in processes:
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@contextmanager
def worker_processes(
    count: int,
    *,
    database_url: str,
    data_dir: Path,
    redis_url: str | None,
    concurrency: int,
    poll_seconds: float,
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Run `count` `rapport worker` processes (the servers' environment) until the block ends."""
    processes: list[subprocess.Popen[bytes]] = []
    logs, handles = [], []
    try:
        for number in range(count):
            directory = data_dir / f"w{number}"
            directory.mkdir(parents=True, exist_ok=True)
            environment = server_environment(
                database_url=database_url, secret_key=SECRET, data_dir=directory, port=0,
                redis_url=redis_url,
            )  # fmt: skip
            environment.update(CLIENTS_BY_ADDRESS)
            command = [sys.executable, "-m", "rapport", "worker"]
            command += ["--concurrency", str(concurrency), "--poll-seconds", str(poll_seconds)]
            log = directory / "worker.log"
            logs.append(log)
            handle = log.open("wb")
            handles.append(handle)
            processes.append(
                subprocess.Popen(command, env=environment, stdout=handle, stderr=handle)
            )
        deadline = time.monotonic() + 90
        for process, log in zip(processes, logs, strict=True):
            while "rapport worker" not in log.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"a worker did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.1)
        yield processes
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for handle in handles:
            handle.close()


def report(label: str, samples: Samples, options: argparse.Namespace) -> None:
    to_console = [
        (seen - samples.sent[message]) * 1000
        for message, times in samples.to_console.items() if message in samples.sent
        for seen in times
    ]  # fmt: skip
    to_widget = [
        (seen - samples.sent[message]) * 1000
        for message, seen in samples.to_widget.items() if message in samples.sent
    ]  # fmt: skip
    echo = [seconds * 1000 for seconds in samples.echo]
    per_day = options.rate / MESSAGES_PER_CONVERSATION * 86400
    print(f"{label} offered {options.rate} messages/s (~{per_day:,.0f} conversations/day)")
    handled = samples.handled / samples.elapsed
    print(f"{label} messages/s handled {handled:.1f}  errors {len(samples.errors)}")
    echo_p95 = percentile(echo, 0.95)
    for name, values in (("customer->console", to_console), ("agent->widget", to_widget)):
        p50, p95, p99 = (percentile(values, share) for share in (0.5, 0.95, 0.99))
        print(
            f"{label} {name:<17} n={len(values):>6}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
            f"p99 {p99:6.1f} ms  p95 x{p95 / echo_p95:.1f} of echo"
        )
    p50, p95, p99 = (percentile(echo, share) for share in (0.5, 0.95, 0.99))
    print(
        f"{label} {'echo (baseline)':<17} n={len(echo):>6}  p50 {p50:6.1f} ms  "
        f"p95 {p95:6.1f} ms  p99 {p99:6.1f} ms"
    )
    for error in sorted(set(samples.errors))[:5]:
        print(f"{label}   error: {error}")


def jobs_report(
    label: str, in_process: bool, options: argparse.Namespace, samples: Samples,
    jobs: dict[str, int], seconds: float,
) -> None:  # fmt: skip
    """Say who ran the jobs and whether they kept up: a figure from servers whose jobs piled
    up unrun would flatter the live path."""
    if in_process:
        where = "the servers' in-process workers"
    elif options.workers:
        where = (
            f"{options.workers} `rapport worker` process(es), concurrency "
            f"{options.concurrency}, polling every {options.poll_seconds} s"
        )
    else:
        where = "nobody (--no-worker): they pile up"
    if options.workers and not options.redis:
        print(
            f"{label} note: without --redis the workers' own pushes (the assistant's replies, "
            "SLA warnings, assignments) reach no client; the deliveries timed here are the "
            "servers' own"
        )
    waiting = jobs["queued"] + jobs["running"]
    most = max(samples.waiting, default=0)
    print(
        f"{label} jobs run by {where}: {jobs['done']:,} done ({jobs['done'] / seconds:.1f}/s), "
        f"{waiting:,} waiting at the end (most during the load {most:,}), {jobs['dead']} dead"
    )


def measure(label: str, url: str, directory: str, options: argparse.Namespace) -> None:
    from rapport.db.migrate import upgrade

    upgrade(url)
    reuse = options.reuse is not None
    keys = asyncio.run(seed(url, SECRET, options.consoles, reuse=reuse))
    count = options.conversations
    there = asyncio.run(conversation_count(url, keys["workspace_id"])) if reuse else 0
    if there < count:
        rate = asyncio.run(fill_conversations(url, keys["workspace_id"], count - there))
        print(f"{label} filled {count - there:,} conversations at {rate:,.0f} rows/s (bulk)")
    count = max(count, there)
    if there:
        left = asyncio.run(forget_jobs(url))
        print(f"{label} reused {options.reuse}: {there:,} conversations there already")
        print(f"{label} deleted {left:,} jobs an earlier run left")
    print(f"{label} load average {' '.join(f'{n:.2f}' for n in os.getloadavg())} (before)")
    in_process = options.worker and not options.workers
    with (
        serve_processes(
            options.processes, data_dir=Path(directory) / "servers", database_url=url,
            secret_key=SECRET, redis_url=options.redis, worker=in_process,
            settings=CLIENTS_BY_ADDRESS,
        ) as servers,
        worker_processes(
            options.workers, database_url=url, data_dir=Path(directory) / "workers",
            redis_url=options.redis, concurrency=options.concurrency,
            poll_seconds=options.poll_seconds,
        ) as workers,
    ):  # fmt: skip
        serving = [server.process for server in servers]
        marks: dict[str, Any] = {}

        def warmed() -> None:
            marks.update(
                since=datetime.now(UTC), cpu=cpu_seconds(serving), workers=cpu_seconds(workers)
            )

        samples = asyncio.run(chat_load(servers, keys, options, url, warmed))
        cpu = cpu_seconds(serving) - marks["cpu"]
        cpu_workers = cpu_seconds(workers) - marks["workers"]
        jobs = asyncio.run(job_counts(url, marks["since"]))
        jobs_seconds = (datetime.now(UTC) - marks["since"]).total_seconds()
        report(label, samples, options)
        jobs_report(label, in_process, options, samples, jobs, jobs_seconds)
        if samples.handled:
            served = "jobs included" if in_process else "live path only"
            print(
                f"{label} server CPU {cpu:.1f} s over the load "
                f"({cpu / samples.handled * 1000:.1f} ms a message handled, {served})"
            )
            if workers:
                print(
                    f"{label} worker CPU {cpu_workers:.1f} s over the load "
                    f"({cpu_workers / samples.handled * 1000:.1f} ms a message handled); "
                    f"both {(cpu + cpu_workers) / samples.handled * 1000:.1f} ms a message"
                )
        if options.redis:
            hop = asyncio.run(redis_hop(options.redis))
            p50, p95 = percentile(hop, 0.5), percentile(hop, 0.95)
            name = "redis hop alone"
            print(f"{label} {name:<17} n={len(hop):>6}  p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
        times = asyncio.run(inbox_times(servers[0], keys["tokens"][0]))
    print(f"{label} load average {' '.join(f'{n:.2f}' for n in os.getloadavg())} (after)")
    for name, values in times.items():
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(f"{label} {name:<18} {count:,} conversations  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--conversations", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--warmup", type=float, default=10.0,
        help="seconds of the same load before measuring (models load, caches fill)",
    )  # fmt: skip
    parser.add_argument("--rate", type=float, default=40.0, help="messages a second in all")
    parser.add_argument("--widgets", type=int, default=200)
    parser.add_argument("--consoles", type=int, default=20)
    parser.add_argument("--postgres", help="an admin URL: bench a fresh PostgreSQL database")
    parser.add_argument("--redis", help="Redis URL (needed for --processes > 1)")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument(
        "--workers", type=int, default=None,
        help="`rapport worker` processes running the jobs beside servers that serve without "
        "their in-process worker (default 1 on PostgreSQL, the deployment recommended there "
        "on 2+ cores); 0: the servers run the jobs in-process (the default on SQLite)",
    )  # fmt: skip
    parser.add_argument(
        "--concurrency", type=int, default=4, help="jobs each `rapport worker` runs at once"
    )
    parser.add_argument(
        "--poll-seconds", type=float, default=0.25,
        help="`rapport worker --poll-seconds`: on SQLite the workers learn of new jobs by "
        "looking (PostgreSQL tells them at once)",
    )  # fmt: skip
    parser.add_argument(
        "--no-worker", dest="worker", action="store_false",
        help="with --workers 0: serve without the in-process job worker and run no jobs at "
        "all (they pile up; the live path alone)",
    )  # fmt: skip
    parser.add_argument(
        "--reuse", metavar="PATH",
        help="keep the filled database between runs: a SQLite file path (or, with --postgres, "
        "a database name), filled on the first run and only topped up afterwards",
    )  # fmt: skip
    options = parser.parse_args()
    if options.workers is None:
        options.workers = 1 if options.postgres else 0
    if options.reuse and options.postgres and not options.reuse.isidentifier():
        parser.error("--reuse with --postgres takes a database name (letters, digits, _)")
    if options.processes > 1 and not (options.postgres and options.redis):
        parser.error("--processes > 1 needs --postgres and --redis")
    with tempfile.TemporaryDirectory() as directory:
        if not options.postgres:
            label = f"sqlite x{options.processes}"
            path = Path(options.reuse).resolve() if options.reuse else Path(directory) / "bench.db"
            measure(label, f"sqlite+aiosqlite:///{path}", directory, options)
            return
        if options.reuse:
            url = asyncio.run(kept_postgres(options.postgres, options.reuse))
            name = None
        else:
            url, name = asyncio.run(fresh_postgres(options.postgres))
        try:
            label = f"postgresql x{options.processes}" + (" redis" if options.redis else "")
            measure(label, url, directory, options)
        finally:
            if name is not None:
                asyncio.run(drop_postgres(options.postgres, name))


if __name__ == "__main__":
    main()
