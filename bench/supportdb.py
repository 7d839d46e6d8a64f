"""The support benchmark's data: a shop with agents, and N conversations filled in bulk."""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select

from rapport.core.crypto import configure_keyring
from rapport.core.db import Database
from rapport.core.jobs import Job
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role, Scope
from rapport.identity.errors import WorkspaceNotFound
from rapport.identity.keys import api_keys, sources
from rapport.identity.models import Source
from rapport.identity.repository import StaffRepository
from rapport.identity.schemas import StaffCreate
from rapport.identity.service import staff, staff_password, workspaces
from rapport.identity.sessions import sign_ins
from rapport.support.models import Conversation

PASSWORD = "bench password that is long enough"
# The workspace a reused database keeps between runs (--reuse).
REUSED_SLUG = "bench-reused"
CHUNK = 5_000
YEAR_MS = 365 * 24 * 3600 * 1000
# A year of a busy shop: most conversations are long finished.
STATUSES = [("closed", 60), ("resolved", 33), ("open", 5), ("snoozed", 1), ("pending", 1)]
PRIORITIES = [("normal", 80), ("high", 12), ("low", 5), ("urgent", 3)]
CHANNELS = [("chat", 50), ("email", 35), ("sms", 10), ("api", 5)]


async def seed(url: str, secret: str, agents: int, *, reuse: bool = False) -> dict[str, Any]:
    """Create a workspace, a widget source, an API key and `agents` signed-in agents; with
    `reuse`, take the workspace a former run left in the database (made the first time) and
    sign its agents in again (and add those missing)."""
    configure_keyring([secret.encode()])
    database = Database(url)
    workspace_id, write_key = None, None
    if reuse:
        async with database.session() as session:
            try:
                workspace_id = (await workspaces.get_by_slug(session, REUSED_SLUG)).id
            except WorkspaceNotFound:
                pass
            else:
                query = select(Source.write_key).where(Source.workspace_id == workspace_id)
                write_key = (await session.execute(query)).scalars().first()
    async with database.session() as session:
        if workspace_id is None:
            slug = REUSED_SLUG if reuse else f"bench-{uuid.uuid4().hex[:6]}"
            workspace = await workspaces.create(session, slug=slug, name="Bench", actor=SYSTEM)
            workspace_id = workspace.id
        if write_key is None:
            source = await sources.create(
                session, workspace_id=workspace_id, name="web", actor=SYSTEM
            )
            source.identity_verification_required = False
            write_key = source.write_key
        _, key = await api_keys.create(
            session, workspace_id=workspace_id, name="bench", scopes=list(Scope), actor=SYSTEM
        )
    tokens = []
    for number in range(agents):
        email = f"agent{number}@bench.example"
        body = StaffCreate(email=email, display_name=f"Agent {number}", role=Role.owner)
        async with database.session() as session:
            new = await StaffRepository(session).get_by_email(email) is None
        if new:
            password = await staff_password(email, PASSWORD)
            async with database.session() as session:
                await staff.add(
                    session, workspace_id=workspace_id, body=body, actor=SYSTEM, password=password
                )
        signed_in = await sign_ins.sign_in(
            database, email=email, password=PASSWORD, ip_address=None
        )
        tokens.append(signed_in.token)
    await database.dispose()
    return {"workspace_id": workspace_id, "write_key": write_key, "api_key": key, "tokens": tokens}


async def forget_jobs(url: str) -> int:
    """Delete the jobs an earlier run left (a reused database starts with no backlog)."""
    database = Database(url)
    async with database.session() as session:
        deleted = await session.execute(delete(Job))
    await database.dispose()
    return int(deleted.rowcount)  # type: ignore[attr-defined]


async def job_counts(url: str, since: datetime | None = None) -> dict[str, int]:
    """Count the jobs waiting (queued and due, or running) and, with `since`, those finished
    since then: whether the workers kept up with what the messages queued."""
    database = Database(url)
    now = datetime.now(UTC)
    async with database.session() as session:
        rows = await session.execute(
            select(Job.status, func.count())
            .where((Job.status != "queued") | (Job.run_at <= now))
            .where((Job.status != "done") | (Job.finished_at >= (since or now)))
            .group_by(Job.status)
        )
        counts = {str(status): int(count) for status, count in rows}
    await database.dispose()
    return {name: counts.get(name, 0) for name in ("queued", "running", "done", "dead")}


async def conversation_count(url: str, workspace_id: str) -> int:
    """Return how many conversations the workspace has (a reused database keeps them)."""
    database = Database(url)
    async with database.session() as session:
        query = select(func.count()).where(Conversation.workspace_id == workspace_id)
        count = int((await session.execute(query)).scalar_one())
    await database.dispose()
    return count


def _id_at(milliseconds: int) -> str:
    """Return a UUIDv7 (as the app makes them) of a given millisecond."""
    stamp = (milliseconds & ((1 << 48) - 1)) << 80 | 0x7 << 76 | 0x2 << 62
    keep = ((1 << 80) - 1) & ~(0xF << 76) & ~(0x3 << 62)
    return f"{stamp | int.from_bytes(os.urandom(10), 'big') & keep:032x}"


def _pick(weights: list[tuple[str, int]], count: int) -> list[str]:
    names, sizes = zip(*weights, strict=True)
    return random.choices(names, weights=sizes, k=count)


def _rows(workspace_id: str, count: int, now_ms: int) -> list[dict[str, Any]]:
    stamps = sorted(random.randrange(now_ms - YEAR_MS, now_ms - 60_000) for _ in range(count))
    statuses, priorities = _pick(STATUSES, count), _pick(PRIORITIES, count)
    channels = _pick(CHANNELS, count)
    rows = []
    for stamp, status, priority, channel in zip(
        stamps, statuses, priorities, channels, strict=True
    ):
        moment = datetime.fromtimestamp(stamp / 1000, UTC)
        rows.append(
            {
                "id": _id_at(stamp), "workspace_id": workspace_id, "channel": channel,
                "status": status, "priority": priority, "priority_reason": "keywords: none",
                "priority_overridden": False, "tags": [], "attributes": {}, "skills": [],
                "created_at": moment, "updated_at": moment + timedelta(minutes=5),
                "last_message_at": moment + timedelta(minutes=5), "message_seq": 4,
                "snoozed_until": (moment + timedelta(days=400)) if status == "snoozed" else None,
            }
        )  # fmt: skip
    return rows


async def fill_conversations(url: str, workspace_id: str, count: int) -> float:
    """Insert `count` conversations of the past year in chunks; return rows per second."""
    database = Database(url)
    table = Conversation.__table__
    now_ms = int(time.time() * 1000)
    started = time.perf_counter()
    for done in range(0, count, CHUNK):
        rows = _rows(workspace_id, min(CHUNK, count - done), now_ms)
        async with database.session() as session:
            await session.execute(insert(table), rows)
    elapsed = time.perf_counter() - started
    await database.dispose()
    return count / elapsed if elapsed else 0.0
