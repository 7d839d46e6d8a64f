"""The CX metrics at a shop's real size: every dashboard query and `rapport metrics show`.

It migrates a fresh database (SQLite; PostgreSQL too with --postgres), fills it by bulk
executemany (not the API) with two years of a shop's history in the shapes the metrics read:
conversations, their messages, the metric events the desk records as they happen (first
responses, replies, handle stretches, resolutions, reopens, hand-offs, the assistant's
resolutions, abandoned chats, escalations), orders (5 % cancelled, 3 % refunded) and NPS, CSAT
and CES answers. The target size (--scale 1) is 1,000,000 conversations, 5,000,000 messages,
1,000,000 orders and 500,000 survey responses; --scale 0.1 fills a tenth of each.

    .venv/bin/python bench/analytics.py --scale 0.1 [--postgres postgresql+asyncpg://...]
    .venv/bin/python bench/analytics.py --scale 1 --reuse /tmp/analytics.db

`--business-hours` measures a workspace open Monday to Friday, 09:00-17:00 (most shops set
hours; without them the business-hours figures take a shortcut). `--reuse FILE` keeps the
SQLite database: the first run fills it, later runs migrate it (so a
migration's backfill is timed on real volume) and measure again.

Every query is timed once on the filled database, after a `SELECT count(*)` over the biggest
table (the baseline the ratios divide by) has warmed the cache: first from the rows alone
(no day digests: a fresh install, or days the job has not reached yet), then after running
the digest job (`analytics.digest_days`) until every closed day is digested, as the worker
does every 15 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import on_each_backend
from rapport.analytics import digests
from rapport.analytics.service import MetricsFilters, metrics
from rapport.analytics.tasks import DIGEST_SOURCES
from rapport.analytics.windows import window
from rapport.core.crypto import configure_keyring
from rapport.core.db import Database, background_work
from rapport.events.models import Order
from rapport.feedback.models import SurveyResponse
from rapport.feedback.service import score_histogram
from rapport.identity.audit import SYSTEM
from rapport.identity.service import workspaces
from rapport.support.enums import Channel, MetricKind
from rapport.support.models import Conversation, Message, MetricEvent
from rapport.support.routing_calendar import calendars
from rapport.support.routing_schemas import CalendarUpdate, HoursSpan, Weekday

SECRET = "bench-secret-key-not-for-production-0123456789abcdef"
TARGET = {"conversations": 1_000_000, "messages": 5_000_000, "orders": 1_000_000,
          "responses": 500_000}  # fmt: skip
HISTORY_DAYS = 730
CHUNK = 5_000
CHANNELS = [Channel.chat] * 50 + [Channel.email] * 35 + [Channel.sms] * 10 + [Channel.api] * 5
TEAMS = [f"team{number:028d}" for number in range(4)]
AGENTS = [f"agent{number:027d}" for number in range(40)]
WAIT_MINUTES = {Channel.chat: 4, Channel.sms: 30, Channel.api: 60, Channel.email: 180}
Rows = dict[str, list[dict[str, Any]]]


def _ident() -> str:
    return uuid.uuid4().hex


class Shop:
    """Draws the rows of one workspace: a conversation at a time, then orders and answers."""

    def __init__(self, workspace_id: str, now: datetime, seed: int = 11) -> None:
        self.workspace_id, self.now = workspace_id, now
        self.random = random.Random(seed)

    def moment(self) -> datetime:
        """A uniformly drawn instant of the history."""
        return self.now - timedelta(seconds=self.random.uniform(3600, HISTORY_DAYS * 86_400))

    def conversation(self, rows: Rows, messages: int) -> None:
        """Append one conversation with `messages` messages and its metric events."""
        pick = self.random
        ident, start = _ident(), self.moment()
        channel, team, agent = pick.choice(CHANNELS), pick.choice(TEAMS), pick.choice(AGENTS)
        base = {"workspace_id": self.workspace_id, "conversation_id": ident}

        def event(kind: MetricKind, at: datetime, since: datetime | None, **data: Any) -> None:
            seconds = None if since is None else (at - since).total_seconds()
            rows["events"].append(
                {**base, "id": _ident(), "kind": kind, "seconds": seconds, "channel": channel,
                 "staff_id": data.pop("staff_id", None), "team_id": team, "data": data,
                 "created_at": at}
            )  # fmt: skip

        roll, began, last = pick.random(), start, start
        if channel == Channel.chat and roll < 0.2:
            last = start + timedelta(minutes=pick.randint(1, 8))
            event(MetricKind.resolution, last, start, agent_replies=0, escalated=False,
                  by_assistant_alone=True, handed_off=False)  # fmt: skip
            event(MetricKind.bot_resolved, last, start)
        elif channel == Channel.chat and roll < 0.27:
            last = start + timedelta(minutes=pick.randint(2, 15))
            event(MetricKind.closed, last, start)
            event(MetricKind.abandoned, last, start)
        else:
            if channel == Channel.chat and roll < 0.4:
                began = start + timedelta(minutes=pick.randint(1, 5))
                event(MetricKind.handoff, began, start)
            wait = timedelta(minutes=pick.expovariate(1 / WAIT_MINUTES[channel]))
            first = began + wait
            event(MetricKind.first_response, first, began, staff_id=agent)
            event(MetricKind.reply, first, began, staff_id=agent)
            escalated = pick.random() < 0.1
            if escalated:
                event(MetricKind.escalation, first + wait, None, staff_id=agent)
            last = first + timedelta(minutes=pick.randint(2, 600))
            event(MetricKind.handle, last, began, staff_id=agent)
            event(MetricKind.resolution, last, start, staff_id=agent, agent_replies=1,
                  escalated=escalated, by_assistant_alone=False,
                  handed_off=began != start)  # fmt: skip
            if pick.random() < 0.06:
                event(MetricKind.reopen, last + timedelta(hours=pick.randint(1, 200)), None)
        open_now = last >= self.now or pick.random() < 0.01
        rows["conversations"].append(
            {"id": ident, "workspace_id": self.workspace_id, "channel": channel,
             "status": "open" if open_now else "resolved", "priority": "normal",
             "priority_reason": "", "priority_overridden": False, "tags": [], "attributes": {},
             "skills": [], "created_at": start, "updated_at": last, "last_message_at": last,
             "cycle_started_at": start, "message_seq": messages}
        )  # fmt: skip
        for seq in range(messages):
            author = ("customer", "customer:c") if seq % 2 == 0 else ("agent", f"staff:{agent}")
            rows["messages"].append(
                {**base, "id": _ident(), "author_type": author[0], "author": author[1],
                 "private": False, "body": b"x" * 40, "mentions": [], "seq": seq + 1,
                 "created_at": start + (last - start) * seq / max(messages, 1)}
            )  # fmt: skip

    def order(self, customers: int) -> dict[str, Any]:
        """One order of a random customer (repeat buyers are common)."""
        roll, total = self.random.random(), Decimal(self.random.randint(500, 30_000)) / 100
        status = "cancelled" if roll < 0.05 else "refunded" if roll < 0.08 else "completed"
        placed = self.moment()
        return {
            "id": _ident(), "workspace_id": self.workspace_id, "order_key": _ident(),
            "customer_id": f"{self.random.randrange(customers):032d}", "status": status,
            "origin": "event", "channel": "web", "currency": "USD", "total": total,
            "discount": Decimal(0), "shipping": Decimal(0), "tax": Decimal(0),
            "refunded": total if status == "refunded" else Decimal(0), "placed_at": placed,
            "updated_at": placed, "fulfillment_status": "fulfilled", "created_at": placed,
        }  # fmt: skip

    def response(self) -> dict[str, Any]:
        """One NPS, CSAT or CES answer after a conversation."""
        kind = self.random.choice(["nps", "nps", "csat", "csat", "ces"])
        top = {"nps": 10, "csat": 5, "ces": 7}[kind]
        answered = self.moment()
        return {
            "id": _ident(), "workspace_id": self.workspace_id, "kind": kind,
            "score": min(top, int(self.random.triangular(0, top + 1, top))),
            "channel": self.random.choice(CHANNELS).value, "team_id": self.random.choice(TEAMS),
            "staff_id": self.random.choice(AGENTS), "answered_at": answered, "origin": "survey",
            "dedupe_key": _ident(), "topics": [], "created_at": answered,
        }  # fmt: skip


async def fill(url: str, scale: float) -> tuple[str, str, dict[str, int]]:
    """Create a workspace and fill it; return its id, slug and the rows written per table."""
    database = Database(url)
    async with database.session() as session:
        slug = f"bench-{uuid.uuid4().hex[:6]}"
        workspace = await workspaces.create(session, slug=slug, name="Bench", actor=SYSTEM)
    shop = Shop(workspace.id, datetime.now(UTC).replace(hour=0, minute=0, second=0))
    written = {"conversations": 0, "messages": 0, "events": 0, "orders": 0, "responses": 0}
    tables = {"conversations": Conversation, "messages": Message, "events": MetricEvent,
              "orders": Order, "responses": SurveyResponse}  # fmt: skip
    conversations = int(TARGET["conversations"] * scale)
    per_conversation = TARGET["messages"] // TARGET["conversations"]
    for done in range(0, conversations, CHUNK):
        rows: Rows = {"conversations": [], "messages": [], "events": []}
        for _ in range(min(CHUNK, conversations - done)):
            shop.conversation(rows, per_conversation)
        await _insert(database, tables, rows, written)
    customers = max(1, int(TARGET["orders"] * scale / 4))
    for name, draw in (("orders", lambda: shop.order(customers)), ("responses", shop.response)):
        count = int(TARGET[name] * scale)
        for done in range(0, count, CHUNK):
            chunk = [draw() for _ in range(min(CHUNK, count - done))]
            await _insert(database, tables, {name: chunk}, written)
    if database.is_postgres:
        async with database.session() as session:
            await session.execute(text("ANALYZE"))
    await database.dispose()
    return workspace.id, slug, written


async def _insert(database: Database, tables: dict[str, Any], rows: Rows, written: dict[str, int]):
    async with database.session() as session:
        for name, chunk in rows.items():
            if chunk:
                await session.execute(insert(tables[name].__table__), chunk)
                written[name] += len(chunk)


# The process time (every thread, so SQLite's work in aiosqlite's thread too) of each query:
# unlike the wall clock, it hardly moves with the machine's load.
CPU: dict[str, float] = {}


async def _timed(label: str, work: Callable[[], Awaitable[Any]], times: dict[str, float]) -> None:
    started, cpu = time.perf_counter(), time.process_time()
    await work()
    times[label] = time.perf_counter() - started
    CPU[label] = time.process_time() - cpu


async def dashboard(url: str, workspace_id: str) -> dict[str, float]:
    """Time each query the dashboard makes, once, on its own session."""
    database = Database(url)
    today = datetime.now(UTC).date()
    times: dict[str, float] = {}
    async with database.session() as session:
        await _timed("baseline count(*) messages", lambda: session.execute(
            text("SELECT count(*) FROM conversation_messages")), times)  # fmt: skip

    def days_back(days: int, back: int = 0) -> dict[str, date]:
        end = today - timedelta(days=back)
        return {"first_day": end - timedelta(days=days), "end_day": end}

    queries: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "summary 30 days": lambda s: metrics.summary(s, workspace_id, **days_back(30)),
        "summary previous 30 days": lambda s: metrics.summary(s, workspace_id, **days_back(30, 30)),
        "summary 90 days": lambda s: metrics.summary(s, workspace_id, **days_back(90)),
        "series per day 30 days": lambda s: metrics.series(s, workspace_id, **days_back(30)),
        "series per day 90 days": lambda s: metrics.series(s, workspace_id, **days_back(90)),
        "breakdown by channel": lambda s: metrics.breakdown(
            s, workspace_id, by="channel", **days_back(30)),
        "breakdown by team": lambda s: metrics.breakdown(
            s, workspace_id, by="team", **days_back(30)),
        "breakdown by agent": lambda s: metrics.breakdown(
            s, workspace_id, by="agent", **days_back(30)),
        "summary 30 days, one channel": lambda s: metrics.summary(
            s, workspace_id, filters=MetricsFilters(channel=Channel.chat), **days_back(30)),
        "NPS distribution": lambda s: _nps(s, workspace_id, days_back(30)),
    }  # fmt: skip
    for label, query in queries.items():
        async with database.session() as session:
            await _timed(label, lambda query=query, session=session: query(session), times)
    # The page itself: its queries in one unit of work, each window's events read once.
    page = [queries[name] for name in PAGE]

    async def whole_page() -> None:
        async with database.session() as session:
            with metrics.shared_reads(session):
                for query in page:
                    await query(session)

    await _timed(SHARED_PAGE, whole_page, times)
    await database.dispose()
    return times


# What the dashboard page asks for a 30-day window.
PAGE = ("summary 30 days", "summary previous 30 days", "series per day 30 days",
        "breakdown by channel", "breakdown by team", "breakdown by agent",
        "NPS distribution")  # fmt: skip
SHARED_PAGE = "whole page, one read a window"


async def _nps(session: Any, workspace_id: str, days: dict[str, date]) -> dict[int, int]:
    calendar = await calendars.load(session, workspace_id)
    span = window(days["first_day"], days["end_day"], calendar.time_zone)
    return await score_histogram(session, workspace_id, kind="nps", start=span.start, end=span.end)


def startup() -> float:
    """Time `rapport metrics --help`: the CLI's start alone, the baseline of `metrics show`."""
    started = time.perf_counter()
    command = [str(Path(sys.executable).parent / "rapport"), "metrics", "--help"]
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def metrics_show(url: str, slug: str) -> float:
    """Time `rapport metrics show --json` over the last 30 days (a fresh process)."""
    today = datetime.now(UTC).date()
    command = [str(Path(sys.executable).parent / "rapport"), "metrics", "show", "--workspace",
               slug, "--from", str(today - timedelta(days=30)), "--to", str(today),
               "--json"]  # fmt: skip
    environment = {**os.environ, "RAPPORT_DATABASE_URL": url, "RAPPORT_SECRET_KEY": SECRET}
    started = time.perf_counter()
    subprocess.run(command, check=True, env=environment, capture_output=True)
    return time.perf_counter() - started


async def filled_before(url: str) -> tuple[str, str] | None:
    """Return the id and slug of the workspace an earlier run filled, if there is one."""
    database = Database(url)
    async with database.session() as session:
        found = (
            await session.execute(
                text("SELECT id, slug FROM workspaces WHERE slug LIKE 'bench-%' LIMIT 1")
            )
        ).first()
    await database.dispose()
    return None if found is None else (found[0], found[1])


OFFICE_HOURS = CalendarUpdate(
    weekly_hours={day: [HoursSpan(start="09:00", end="17:00")] for day in list(Weekday)[:5]}
)


async def business_hours(url: str, workspace_id: str, office: bool) -> None:
    """Give the workspace business hours Monday to Friday, 09:00-17:00 (`office`), or none
    (always open: the business-hours figures then take a shortcut)."""
    database = Database(url)
    async with database.session() as session:
        if office:
            await calendars.replace(session, workspace_id, OFFICE_HOURS)
        else:
            await session.execute(
                text("DELETE FROM support_calendars WHERE workspace_id = :workspace"),
                {"workspace": workspace_id},
            )
    await database.dispose()


def measure(label: str, url: str, scale: float, office: bool = False) -> None:
    """Fill one database (unless an earlier run did) and print every figure."""
    from rapport.db.migrate import upgrade

    started = time.perf_counter()
    upgrade(url)
    print(f"{label} migrated in {time.perf_counter() - started:.1f} s")
    print(f"{label} load average before the fill: {_load()}")
    started = time.perf_counter()
    kept = asyncio.run(filled_before(url))
    if kept is None:
        workspace_id, slug, written = asyncio.run(fill(url, scale))
        filled = ", ".join(f"{count:,} {name}" for name, count in written.items())
        print(f"{label} filled {filled} in {time.perf_counter() - started:.0f} s")
    else:
        workspace_id, slug = kept
        print(f"{label} reused the database an earlier run filled")
    asyncio.run(business_hours(url, workspace_id, office))
    print(f"{label} business hours: {'Monday-Friday 09:00-17:00' if office else 'always open'}")
    print(f"{label} load average before the queries: {_load()}")
    asyncio.run(forget_digests(url, workspace_id))
    report(f"{label} rows", asyncio.run(dashboard(url, workspace_id)))
    started = time.perf_counter()
    jobs, stored, size = asyncio.run(digest_everything(url, workspace_id))
    print(
        f"{label} digested {stored:,} closed days (support and orders, {size / 1e6:.1f} MB)"
        f" in {time.perf_counter() - started:.1f} s, {jobs} jobs as the worker runs them"
    )
    report(f"{label} digests", asyncio.run(dashboard(url, workspace_id)))
    print(f"{label} {'rapport metrics --help (start)':<30} {startup() * 1000:8.0f} ms")
    print(f"{label} {'rapport metrics show --json':<30} {metrics_show(url, slug) * 1000:8.0f} ms")
    print(f"{label} load average after the queries: {_load()}")


def report(label: str, times: dict[str, float]) -> None:
    """Print each query's time, its ratio to the baseline, and the whole page."""
    baseline = times.pop("baseline count(*) messages")
    shared = times.pop(SHARED_PAGE), CPU.pop(SHARED_PAGE)
    print(f"{label} {'baseline count(*) messages':<30} {baseline * 1000:8.0f} ms")
    for name, seconds in times.items():
        ratio = seconds / baseline if baseline else 0.0
        print(
            f"{label} {name:<30} {seconds * 1000:8.0f} ms  x{ratio:6.1f} baseline"
            f"  (process time {CPU[name] * 1000:6.0f} ms)"
        )
    total, cpu = sum(times[name] for name in PAGE), sum(CPU[name] for name in PAGE)
    print(
        f"{label} {'whole dashboard (30 days)':<30} {total * 1000:8.0f} ms"
        f"  (process time {cpu * 1000:6.0f} ms; the queries above, one unit of work each)"
    )
    print(
        f"{label} {SHARED_PAGE:<30} {shared[0] * 1000:8.0f} ms  x{shared[0] / total:6.2f} of"
        f" the line above  (process time {shared[1] * 1000:6.0f} ms; as the console page runs)"
    )


async def forget_digests(url: str, workspace_id: str) -> None:
    """Delete the workspace's day digests (a reused database keeps an earlier run's), so the
    first set of figures reads every row."""
    database = Database(url)
    async with database.session() as session:
        await session.execute(
            text("DELETE FROM analytics_day_digests WHERE workspace_id = :workspace"),
            {"workspace": workspace_id},
        )
    await database.dispose()


async def digest_everything(url: str, workspace_id: str) -> tuple[int, int, int]:
    """Run the digest job's step for each source, as background work, until no closed day is
    left; return the jobs run, the digests stored and their bytes."""
    database = Database(url)
    jobs = 0
    with background_work():
        for source in DIGEST_SOURCES:
            left = 1
            while left:
                jobs += 1
                async with database.session() as session:
                    calendar = await calendars.load(session, workspace_id)
                    left = await digests.digest_days(
                        session, workspace_id, source, calendar, datetime.now(UTC)
                    )
    async with database.session() as session:
        stored, size = (
            await session.execute(
                text(
                    "SELECT count(*), coalesce(sum(length(payload)), 0)"
                    " FROM analytics_day_digests WHERE workspace_id = :workspace"
                ),
                {"workspace": workspace_id},
            )
        ).one()
    await database.dispose()
    return jobs, int(stored), int(size)


def _load() -> str:
    """The machine's 1, 5 and 15 minute load averages (other work skews every figure)."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scale", type=float, default=0.01, help="share of the target size")
    parser.add_argument("--postgres", help="an admin URL: bench a fresh PostgreSQL database too")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--business-hours", action="store_true",
        help="measure with business hours set (Monday-Friday 09:00-17:00), not always open",
    )  # fmt: skip
    parser.add_argument(
        "--reuse", metavar="FILE",
        help="SQLite only: keep the database in FILE, filled on the first run, reused after",
    )  # fmt: skip
    options = parser.parse_args()
    configure_keyring([SECRET.encode()])
    if options.reuse:
        url = f"sqlite+aiosqlite:///{Path(options.reuse).resolve()}"
        measure("sqlite", url, options.scale, options.business_hours)
        return
    on_each_backend(
        lambda label, url, _directory: measure(label, url, options.scale, options.business_hours),
        options.postgres,
        options.skip_sqlite,
    )


if __name__ == "__main__":
    main()
