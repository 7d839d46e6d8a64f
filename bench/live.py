"""Live-path latency while other work loads the server, against the same server idle.

Run alone: `.venv/bin/python bench/live.py [--seconds S] [--backlog N] [--postgres URL]`.
For each backend it migrates a fresh database and starts a real `uvicorn` server process with
its in-process worker (as `rapport serve` runs). One sequential client then sends, for S
seconds per scenario, a single `/v1/track` call, `GET /readyz` and an API read
(`GET /api/v1/customers`) in turn, and prints p50/p95/p99 of each and the ratio of each p99 to
the idle run's. Scenarios:
  idle          nothing else happens
  slow-bodies   25 clients each promise a 1,000-byte webhook body and send one byte
  throttled     8 clients send wrong passwords to the console sign-in, nonstop, with the
                default throttle (after 20 failures an address is refused without a hash)
  sign-ins      the same with throttling off, so every attempt is hashed (Argon2)
  backlog       N calls (default 200,000) were stored with the worker stopped; the worker
                now drains them (identity resolution) while we measure
  import        `rapport import orders` of the UCI Online Retail slice runs in another process
(the last needs ../shared/data; it is skipped when the file is not there).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from benchdb import on_each_backend
from rapport.core.crypto import configure_keyring
from rapport.core.db import Database
from rapport.db.migrate import upgrade
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role, Scope
from rapport.identity.keys import api_keys, sources
from rapport.identity.schemas import StaffCreate
from rapport.identity.service import staff, staff_password, workspaces

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
RETAIL = ROOT.parent / "shared/data/online_retail_slice/online_retail_first49999rows.csv.gz"
PASSWORD = "bench password that is long enough"
HELD_BODIES = 25
SIGN_IN_CLIENTS = 8
BATCH = 500


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(url: str, data_dir: str, *, worker: bool, throttle: bool = True) -> dict[str, str]:
    unlimited = {
        # Every wrong password is hashed: throttling would answer them without Argon2.
        "RAPPORT_SIGN_IN_MAX_FAILURES_PER_ACCOUNT": "1000000",
        "RAPPORT_SIGN_IN_MAX_FAILURES_PER_IP": "1000000",
    }
    return {
        **({} if throttle else unlimited),
        **os.environ,
        "RAPPORT_DATABASE_URL": url,
        "RAPPORT_SECRET_KEY": SECRET,
        "RAPPORT_DATA_DIR": data_dir,
        "RAPPORT_LOG_LEVEL": "WARNING",
        "RAPPORT_RUN_WORKER": "true" if worker else "false",
        "RAPPORT_INGEST_EVENTS_PER_SECOND": "0",
        # The held bodies and the probe share one address here; on the internet they come
        # from many, so the per-address limit (tested on its own) is lifted.
        "RAPPORT_BODIES_PER_ADDRESS": "1000",
    }


def start_server(
    url: str, data_dir: str, *, worker: bool, throttle: bool = True
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "rapport.app:create_app"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    env = server_env(url, data_dir, worker=worker, throttle=throttle)
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a loaded machine may take a while to import the app
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("server did not start")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)


async def seed(url: str) -> dict[str, str]:
    """Create a workspace, a source that takes unsigned calls, an API key and an owner."""
    configure_keyring([SECRET.encode()])
    database = Database(url)
    password = await staff_password("owner@bench.example", PASSWORD)
    async with database.session() as session:
        slug = f"bench-{uuid.uuid4().hex[:6]}"
        workspace = await workspaces.create(session, slug=slug, name="Bench", actor=SYSTEM)
        source = await sources.create(session, workspace_id=workspace.id, name="web", actor=SYSTEM)
        source.identity_verification_required = False
        _, key = await api_keys.create(
            session, workspace_id=workspace.id, name="bench", scopes=list(Scope), actor=SYSTEM
        )
        body = StaffCreate(email="owner@bench.example", display_name="Owner", role=Role.owner)
        await staff.add(
            session, workspace_id=workspace.id, body=body, actor=SYSTEM, password=password
        )
    await database.dispose()
    return {"slug": slug, "write_key": source.write_key, "api_key": key}


async def timed(samples: dict[str, list[float]], name: str, call: Awaitable[Any]) -> None:
    started = time.perf_counter()
    answer = await call
    samples.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    if answer.status_code >= 300:
        raise RuntimeError(f"{name} answered {answer.status_code}: {answer.text[:200]}")


async def probe(base: str, keys: dict[str, str], seconds: float) -> dict[str, list[float]]:
    """One sequential client: a single track call, readiness and an API read, in turn."""
    samples: dict[str, list[float]] = {}
    auth = httpx.BasicAuth(keys["write_key"], "")
    api = {"Authorization": f"Bearer {keys['api_key']}"}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        deadline = time.monotonic() + seconds
        sent = 0
        while time.monotonic() < deadline:
            sent += 1
            call = {"userId": f"probe-{sent % 50}", "event": "Product Viewed"}
            await timed(samples, "track", client.post("/v1/track", json=call, auth=auth))
            await timed(samples, "readyz", client.get("/readyz"))
            await timed(samples, "api-read", client.get("/api/v1/customers", headers=api))
    return samples


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(label: str, scenario: str, samples: dict[str, list[float]], idle: dict[str, float]):
    p99s = {}
    for name, values in samples.items():
        p50, p95, p99 = (percentile(values, share) for share in (0.5, 0.95, 0.99))
        p99s[name] = p99
        ratio = f"  p99 x{p99 / idle[name]:.1f} of idle" if name in idle else ""
        print(
            f"{label} {scenario:<11} {name:<8} n={len(values):>5}  p50 {p50:6.1f} ms"
            f"  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms{ratio}",
            flush=True,
        )
    return p99s


@asynccontextmanager
async def slow_bodies(base: str, keys: dict[str, str]):
    port = int(base.rsplit(":", 1)[1])
    held = []
    for number in range(HELD_BODIES):
        sender = socket.create_connection(("127.0.0.1", port))
        path = (
            f"/v1/webhooks/shopify/{keys['write_key']}/orders-create"
            if number % 2
            else "/console/sign-in"
        )
        sender.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n{".encode()
        )
        held.append(sender)
    try:
        yield
    finally:
        for sender in held:
            sender.close()


async def _guess_forever(base: str, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        page = await client.get("/console/sign-in")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {"email": "owner@bench.example", "password": "wrong" * 4, "csrf_token": token}
        while not stop.is_set():
            await client.post("/console/sign-in", data=form)


@asynccontextmanager
async def failed_sign_ins(base: str, keys: dict[str, str]):
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_guess_forever(base, stop)) for _ in range(SIGN_IN_CLIENTS)]
    await asyncio.sleep(0.5)
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


@asynccontextmanager
async def nothing(base: str, keys: dict[str, str]):
    yield


def importer(url: str, data_dir: str, slug: str):
    @asynccontextmanager
    async def running(base: str, keys: dict[str, str]):
        command = [sys.executable, "-m", "rapport", "import", "orders", str(RETAIL)]
        command += ["--workspace", slug]
        env = server_env(url, data_dir, worker=False)
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        await asyncio.sleep(1.0)
        try:
            yield
        finally:
            finished = process.poll()
            process.kill()
            process.wait()
            state = "still running" if finished is None else f"finished, exit code {finished}"
            print(f"  (the import was {state} at the end of the window)", flush=True)

    return running


def fill_backlog(base: str, keys: dict[str, str], calls: int) -> float:
    """Store `calls` track calls through /v1/batch (the worker is stopped); return seconds."""
    auth = httpx.BasicAuth(keys["write_key"], "")
    started = time.perf_counter()
    with httpx.Client(base_url=base, timeout=120) as client:
        for first in range(0, calls, BATCH):
            batch = [
                {
                    "type": "track",
                    "event": "Product Viewed",
                    "anonymousId": f"visitor-{(first + offset) % 20000}",
                    "messageId": f"backlog-{first + offset}",
                    "properties": {"product_id": f"p-{offset % 40}"},
                }
                for offset in range(min(BATCH, calls - first))
            ]
            answer = client.post("/v1/batch", json={"batch": batch}, auth=auth)
            answer.raise_for_status()
    return time.perf_counter() - started


Scenario = Callable[[str, dict[str, str]], AbstractAsyncContextManager[None]]


def measure(
    label: str, url: str, data_dir: str, seconds: float, backlog: int, only: set[str]
) -> None:
    upgrade(url)
    keys = asyncio.run(seed(url))
    scenarios: list[tuple[str, Scenario]] = [
        ("idle", nothing),
        ("slow-bodies", slow_bodies),
        ("throttled", failed_sign_ins),
    ]
    if RETAIL.exists():
        scenarios.append(("import", importer(url, data_dir, keys["slug"])))
    chosen = [(name, scenario) for name, scenario in scenarios if name == "idle" or name in only]
    signing = [("sign-ins", failed_sign_ins)] if "sign-ins" in only else []
    idle: dict[str, float] = {}
    for throttle, batch in ((True, chosen), (False, signing)):
        if not batch:
            continue
        server, base = start_server(url, data_dir, worker=True, throttle=throttle)
        try:
            for name, scenario in batch:

                async def run(
                    scenario: Scenario = scenario, base: str = base
                ) -> dict[str, list[float]]:
                    async with scenario(base, keys):
                        return await probe(base, keys, seconds)

                p99s = report(label, name, asyncio.run(run()), idle)
                idle = idle or p99s
        finally:
            stop(server)
    if "backlog" not in only:
        return
    server, base = start_server(url, data_dir, worker=False)
    try:
        took = fill_backlog(base, keys, backlog)
        print(f"{label} backlog of {backlog:,} calls stored in {took:.1f} s", flush=True)
    finally:
        stop(server)
    server, base = start_server(url, data_dir, worker=True)
    try:
        report(label, "backlog", asyncio.run(probe(base, keys, seconds)), idle)
    finally:
        stop(server)


SCENARIOS = ("slow-bodies", "throttled", "import", "sign-ins", "backlog")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--backlog", type=int, default=200_000)
    parser.add_argument("--postgres", default=None, help="admin URL of a PostgreSQL server")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, of {', '.join(SCENARIOS)} (idle always runs first)",
    )
    args = parser.parse_args()
    only = set(args.scenarios.split(","))
    print(f"cpus: {os.cpu_count()}  load average: {os.getloadavg()[0]:.1f}", flush=True)
    on_each_backend(
        lambda label, url, directory: measure(
            label, url, directory, args.seconds, args.backlog, only
        ),
        args.postgres,
        args.skip_sqlite,
    )


if __name__ == "__main__":
    main()
