"""Durable events/s through POST /v1/batch on SQLite and PostgreSQL, against a bulk-insert ceiling.

Run alone: `.venv/bin/python bench/ingest.py [--events N] [--batch N] [--postgres URL]`
(URL of a PostgreSQL database whose role may CREATE DATABASE; defaults to
$RAPPORT_TEST_DATABASE_URL when set). For each backend it migrates a fresh database, starts a
real uvicorn server process (RAPPORT_RUN_WORKER=false: this measures the durable write path; the
queued processing jobs are left for a worker) and sends N track calls built by analytics-python
(segment-analytics-python from PyPI) in batches of 500 (--batch: a browser's analytics.js
sends a few calls a request) with the library's own transport, from a separate client
process. It re-sends the first calls through the library's whole pipeline and checks that
every call was stored exactly once. Then it bulk-inserts the same rows with the same
driver-level statement into the same database, without HTTP (the ceiling), and lets a worker
resolve identities for 20 s (processing rate; in this process, with the garbage collector set
as Rapport's server and worker set it). Prints one figure per line. Last, unless --no-live,
it runs `bench/live.py --scenarios idle,backlog` on the same backends: single-call latency
(`/v1/track` and two reads) while a server drains a 200,000-call processing backlog, against
the same server idle (the live path's target: p99 < 30 ms on SQLite).
Memory: pass --events 1000000 and compare the RSS lines (the server streams; nothing accumulates).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from segment.analytics import Client
from segment.analytics.request import DatetimeSerializer, post
from sqlalchemy import func, select

from benchdb import on_each_backend
from rapport.core.clock import utcnow
from rapport.core.collector import quiet_collector
from rapport.core.crypto import configure_keyring
from rapport.core.db import Database, background_work
from rapport.db.migrate import upgrade
from rapport.events.models import Event
from rapport.events.preparation import prepare
from rapport.events.repository import EventRepository
from rapport.identity.audit import SYSTEM
from rapport.identity.keys import sources
from rapport.identity.service import workspaces
from rapport.identity.verification import identity_verification
from rapport.worker.runner import Worker, load_tasks

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
BATCH = 500  # calls per request (--batch); the ceiling inserts 500 rows a statement
CEILING_BATCH = 500
PROCESS_SECONDS = 20.0
RESENT = 5000
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
SERVER_PROCESSES = int(os.environ.get("BENCH_SERVER_PROCESSES", "1"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def template_message() -> dict[str, Any]:
    """Return a track call exactly as analytics-python builds it (send=False hands it back
    instead of queueing it): library context, millisecond timestamp, cleaned fields."""
    builder = Client("unused", send=False)
    _, message = builder.track(
        anonymous_id="anon-0", event="Product Viewed", properties={}, message_id="template"
    )
    return dict(message)


def messages(template: dict[str, Any], prefix: str, first: int, size: int) -> list[dict[str, Any]]:
    """Return `size` calls of the template, each with its own messageId, visitor and product."""
    return [
        {
            **template,
            "messageId": f"{prefix}-{n}",
            "anonymousId": f"anon-{n % 5000}",
            "properties": {"product_id": f"sku-{n % 300}", "price": 19.99, "channel": "web"},
        }
        for n in range(first, first + size)
    ]


def client_process(
    url: str, write_key: str, prefix: str, events: int, cpu: Any, batch_size: int = BATCH
) -> None:
    """Send every batch with analytics-python's own transport (`segment.analytics.request.post`:
    its JSON encoder, Basic auth, requests session), from CONNECTIONS threads of a separate
    process, so the load generator is not what is measured."""
    template = template_message()
    starts = iter(range(0, events, batch_size))
    lock = threading.Lock()

    def lane() -> None:
        while True:
            with lock:
                first = next(starts, None)
            if first is None:
                return
            batch = messages(template, prefix, first, min(batch_size, events - first))
            response = post(write_key, host=url, timeout=60, batch=batch)
            if response.status_code != 200 or response.json() != {"success": True}:
                raise RuntimeError(f"batch failed: {response.status_code} {response.text}")

    with ThreadPoolExecutor(CONNECTIONS) as pool:
        for lane_done in [pool.submit(lane) for _ in range(CONNECTIONS)]:
            lane_done.result()
    times = os.times()
    cpu.value = times.user + times.system


def resend_with_client(url: str, write_key: str, prefix: str, count: int) -> None:
    """Send the first `count` calls again through analytics-python's whole pipeline (track ->
    queue -> consumer threads -> batch upload, gzip on): every one is a duplicate."""
    errors: list[Exception] = []
    client = Client(
        write_key,
        host=url,
        gzip=True,
        upload_size=BATCH,
        max_queue_size=count + 1,
        thread=2,
        on_error=lambda error, _: errors.append(error),
    )
    for n in range(count):
        sent, _ = client.track(
            anonymous_id=f"anon-{n % 5000}",
            event="Product Viewed",
            properties={"product_id": f"sku-{n % 300}", "price": 19.99, "channel": "web"},
            message_id=f"{prefix}-{n}",
        )
        if not sent:
            raise RuntimeError("analytics-python dropped a call (queue full)")
    client.flush()
    client.join()
    if errors:
        raise RuntimeError(f"analytics-python reported {len(errors)} errors: {errors[0]}")


async def create_source(url: str) -> tuple[str, str]:
    """Create a workspace and a source; return the workspace id and write key."""
    database = Database(url)
    async with database.session() as session:
        workspace = await workspaces.create(
            session, slug=f"bench-{uuid.uuid4().hex[:6]}", name="Bench", actor=SYSTEM
        )
        source = await sources.create(session, workspace_id=workspace.id, name="web", actor=SYSTEM)
        # The calls are anonymous page views: no userId to sign. Not requiring verified
        # identities measures the path most shops' calls take.
        await identity_verification.set_required(
            session, workspace_id=workspace.id, source_id=source.id, required=False, actor=SYSTEM
        )
    await database.dispose()
    return workspace.id, source.write_key


async def count_events(url: str, workspace_id: str) -> int:
    database = Database(url)
    async with database.session() as session:
        counted = await session.execute(
            select(func.count()).select_from(Event).where(Event.workspace_id == workspace_id)
        )
        total = int(counted.scalar_one())
    await database.dispose()
    return total


def start_server(url: str, port: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RAPPORT_DATABASE_URL": url,
        "RAPPORT_SECRET_KEY": SECRET,
        "RAPPORT_DATA_DIR": data_dir,
        "RAPPORT_LOG_LEVEL": "WARNING",
        "RAPPORT_ENV": "development",
        "RAPPORT_RUN_WORKER": "false",
        # Kept on (its cost is measured) but far above what one client can send.
        "RAPPORT_INGEST_EVENTS_PER_SECOND": "10000000",
    }
    command = [
        *(
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            os.environ.get("BENCH_APP", "rapport.app:create_app"),
        ),
        *("--port", str(port), "--workers", str(SERVER_PROCESSES)),
        *("--log-level", "warning", "--no-access-log"),
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120  # a loaded machine may take a while to import the app
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 500:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("server did not start")


def family(pid: int) -> list[int]:
    """Return a process and its descendants (the server and its preparation processes)."""
    pids, index = [pid], 0
    while index < len(pids):
        # A thread or process that ended meanwhile is skipped.
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for task in Path(f"/proc/{pids[index]}/task").iterdir():
                with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                    pids.extend(int(child) for child in (task / "children").read_text().split())
        index += 1
    return pids


def cpu_seconds(pid: int) -> tuple[float, float]:
    """Return the user + system CPU time a process, and its descendants, have used so far."""
    own = children = 0.0
    for member in family(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):  # exited meanwhile
            continue
        used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if member == pid:
            own = used
        else:
            children += used
    return own, children


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """Return the current and peak resident memory of a process and its descendants, in MB."""
    current = peak = 0.0
    for member in family(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):  # exited meanwhile
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if "VmRSS" not in fields:  # exited, not yet reaped: no memory left
            continue
        current += int(fields["VmRSS"].split()[0]) / 1024
        peak += int(fields["VmHWM"].split()[0]) / 1024
    return current, peak


async def processing_rate(url: str, workspace_id: str, seconds: float) -> float:
    """Return events/s resolved by a worker (identity graph, profiles, orders) for a while,
    with the garbage collector set as `rapport serve` and `rapport worker` set it, and its
    batches run as background work, as theirs run (claims, completions and commits on the
    connections' threads; before, this bench ran them on the event loop, which no server
    does, and measured 20.8-22.9k calls/s against 19.2-22.2k as a server runs them, three
    alternating 15 s runs on one 200,000-call database)."""
    load_tasks()
    quiet_collector()
    database = Database(url)
    worker = Worker(database, concurrency=4)
    started = time.perf_counter()
    with background_work():  # as `Worker.run_forever` runs them
        while time.perf_counter() - started < seconds and await worker.run_batch():
            pass
    elapsed = time.perf_counter() - started
    async with database.session() as session:
        done = await session.execute(
            select(func.count())
            .select_from(Event)
            .where(Event.workspace_id == workspace_id, Event.processed.is_(True))
        )
        processed = int(done.scalar_one())
    await database.dispose()
    return processed / elapsed


async def ceiling(url: str, workspace_id: str, events: int) -> float:
    """Return rows/s of a plain bulk insert of the same rows (built beforehand, untimed)."""
    stamp = (workspace_id, None, False)
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    received_at = utcnow()
    batches = []
    template = template_message()
    for first in range(0, events, CEILING_BATCH):
        batch = messages(template, "ceiling", first, min(CEILING_BATCH, events - first))
        body = json.dumps({"batch": batch}, cls=DatetimeSerializer).encode()
        prepared = prepare(body, "", None, received_at, dialect)
        batches.append([stamp + row for row in prepared.rows])
    database = Database(url)
    started = time.perf_counter()
    for rows in batches:
        async with database.session() as session:
            await EventRepository(session, workspace_id).insert_many(rows)
    elapsed = time.perf_counter() - started
    await database.dispose()
    return events / elapsed


def measure(label: str, url: str, events: int, data_dir: str, batch_size: int = BATCH) -> None:
    upgrade(url)
    configure_keyring([SECRET.encode()])
    workspace_id, write_key = asyncio.run(create_source(url))
    port = free_port()
    client_cpu = multiprocessing.Value("d", 0.0)
    sender = multiprocessing.Process(
        target=client_process,
        args=(f"http://127.0.0.1:{port}", write_key, "bench", events, client_cpu, batch_size),
    )
    server = start_server(url, port, data_dir)
    try:
        cpu_before = cpu_seconds(server.pid)
        started = time.perf_counter()
        sender.start()
        sender.join()
        elapsed = time.perf_counter() - started
        cpu_after = cpu_seconds(server.pid)
        server_cpu = sum(cpu_after) - sum(cpu_before)
        preparation_cpu = cpu_after[1] - cpu_before[1]
        # Exactly once: re-sent calls (through the library's whole pipeline) are not stored again.
        resend_with_client(f"http://127.0.0.1:{port}", write_key, "bench", min(events, RESENT))
        rss, peak = peak_rss_mb(server.pid)
    finally:
        if sender.pid is not None and sender.is_alive():  # interrupted: stop the client too
            sender.terminate()
            sender.join()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    stored = asyncio.run(count_events(url, workspace_id))
    if sender.exitcode != 0 or stored != events:
        raise SystemExit(f"{label}: client exit {sender.exitcode}, stored {stored} of {events}")
    through_api = events / elapsed
    processed = asyncio.run(processing_rate(url, workspace_id, PROCESS_SECONDS))
    bulk = asyncio.run(ceiling(url, workspace_id, min(events, 200_000)))
    print(
        f"{label} durable events/s through /v1/batch ({events} events, {batch_size}/batch):",
        f"{through_api:,.0f}",
    )
    print(f"{label} exactly once: {stored} stored after {min(events, RESENT)} were re-sent")
    print(f"{label} bulk-insert ceiling rows/s (same rows, same database): {bulk:,.0f}")
    print(
        f"{label} server CPU use during the run, preparation processes included "
        f"(1.0 = one core busy): {server_cpu / elapsed:.2f}"
    )
    print(
        f"{label} server CPU per event (µs): {server_cpu / events * 1e6:.1f}, of which "
        f"preparation processes {preparation_cpu / events * 1e6:.1f}"
    )
    client_us = client_cpu.value / events * 1e6
    print(f"{label} client CPU per event (µs, analytics-python): {client_us:.1f}")
    print(f"{label} ratio api/ceiling: {through_api / bulk:.2f}")
    sample = f"{PROCESS_SECONDS:.0f} s sample"
    print(f"{label} processed events/s (identity resolution job, {sample}): {processed:,.0f}")
    ratio = processed / through_api
    print(f"{label} ratio processed/durable ingestion (target >= 0.50): {ratio:.2f}")
    print(f"{label} server RSS MB at end (with its preparation processes): {rss:.0f}")
    print(f"{label} server peak RSS MB (with its preparation processes): {peak:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--postgres", default=os.environ.get("RAPPORT_TEST_DATABASE_URL"))
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--batch", type=int, default=BATCH, help="calls per request (1-2500)")
    parser.add_argument(
        "--no-live", action="store_true", help="skip the live-path latency during a backlog"
    )
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}")
    on_each_backend(
        lambda label, url, directory: measure(label, url, args.events, directory, args.batch),
        args.postgres,
        args.skip_sqlite,
    )
    if not args.no_live:
        print("live path while a 200,000-call backlog drains (bench/live.py):", flush=True)
        command = [sys.executable, str(ROOT / "bench" / "live.py"), "--scenarios", "idle,backlog"]
        command += ["--postgres", args.postgres] if args.postgres else []
        command += ["--skip-sqlite"] if args.skip_sqlite else []
        subprocess.run(command, check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
