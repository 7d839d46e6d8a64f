"""The backlog read from its stretches (kept by database triggers) equals the backlog computed
from the raw cycle events, on random histories: ties between an end and a reopen, events
recorded out of order or before the conversation was created, resolved and closed ends of one
cycle, merges, edits and deletions of events, filters by channel, team and agent, and local
days of a time zone that is not UTC (with a DST change) for the per-day series."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, text, update

from rapport.analytics.backlog import Backlog
from rapport.analytics.models import BacklogStretch
from rapport.analytics.windows import window
from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.support.enums import Channel, MetricKind
from rapport.support.models import Conversation, MetricEvent
from rapport.support.reports import MetricScope, SupportReports
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.support import make_team

BEGIN = datetime(2026, 3, 1, tzinfo=UTC)
CHANNELS = [Channel.chat, Channel.email, Channel.sms]
CYCLE = (MetricKind.resolution, MetricKind.closed, MetricKind.reopen)


@dataclass(frozen=True)
class Shop:
    workspace_id: str
    teams: list[str]
    agents: list[str]

    def scopes(self) -> list[MetricScope]:
        return [
            MetricScope(),
            MetricScope(channel=Channel.chat),
            MetricScope(team_ids=(self.teams[0],)),
            MetricScope(team_ids=()),
            MetricScope(staff_id=self.agents[0]),
            MetricScope(channel=Channel.email, team_ids=tuple(self.teams)),
        ]


def _at(pick: random.Random, hours: int = 24 * 20) -> datetime:
    # Whole minutes half of the time, so ends and reopens tie.
    minutes = pick.randrange(hours * 60)
    seconds = 0 if pick.random() < 0.5 else pick.randrange(60)
    return BEGIN + timedelta(minutes=minutes, seconds=seconds)


def _history(pick: random.Random, shop: Shop, count: int) -> tuple[list[Any], list[Any]]:
    workspace_id, teams, agents = shop.workspace_id, [None, *shop.teams], [None, *shop.agents]
    conversations, events = [], []
    for _ in range(count):
        ident, created = uuid.uuid4().hex, _at(pick)
        conversations.append(
            {"id": ident, "workspace_id": workspace_id, "channel": pick.choice(CHANNELS),
             "status": "open", "priority": "normal", "priority_reason": "",
             "priority_overridden": False, "tags": [], "attributes": {}, "skills": [],
             "created_at": created, "updated_at": created, "last_message_at": created,
             "cycle_started_at": created, "message_seq": 0, "team_id": pick.choice(teams),
             "assignee_id": pick.choice(agents)}
        )  # fmt: skip
        moment = created - timedelta(hours=pick.choice([0, 0, 0, 0, 3]))
        for _ in range(pick.choice([0, 1, 1, 2, 3, 4, 6])):
            moment += timedelta(minutes=pick.choice([0, 0, 1, 30, 600, 3000]))
            if pick.random() < 0.1:  # recorded out of order
                moment -= timedelta(minutes=pick.randrange(1, 2000))
            events.append(
                {"id": uuid.uuid4().hex, "workspace_id": workspace_id, "conversation_id": ident,
                 "kind": pick.choice(CYCLE), "seconds": None, "channel": Channel.chat,
                 "staff_id": None, "team_id": None, "data": {}, "created_at": moment}
            )  # fmt: skip
    return conversations, events


async def _fill(database: Database, seed: int) -> tuple[Shop, random.Random]:
    workspace = await make_workspace(database)
    teams = [await make_team(database, workspace.id, name) for name in ("Returns", "Billing")]
    agents = [(await make_staff(database, workspace, Role.agent)).user.id for _ in range(2)]
    shop = Shop(workspace.id, teams, agents)
    pick = random.Random(seed)
    conversations, events = _history(pick, shop, 120)
    async with database.session() as session:
        await session.execute(insert(Conversation.__table__), conversations)
        await session.execute(insert(MetricEvent.__table__), events)
    ids = [row["id"] for row in conversations]
    async with database.session() as session:  # merges, then edits and deletions
        for ident in pick.sample(ids, 6):
            await session.execute(
                update(Conversation).where(Conversation.id == ident).values(merged_into_id=ids[0])
            )
        for row in pick.sample(events, 15):
            moved = row["created_at"] + timedelta(minutes=pick.choice([-700, -1, 1, 900]))
            kind = pick.choice(CYCLE)
            await session.execute(
                update(MetricEvent)
                .where(MetricEvent.id == row["id"])
                .values(created_at=moved, kind=kind)
            )
        gone = [row["id"] for row in pick.sample(events, 10)]
        await session.execute(delete(MetricEvent).where(MetricEvent.id.in_(gone)))
        await session.execute(
            update(Conversation)
            .where(Conversation.id == ids[1])
            .values(created_at=BEGIN + timedelta(days=3))
        )
        await session.execute(delete(Conversation).where(Conversation.id == ids[2]))
    return shop, pick


async def test_stretches_count_what_the_cycle_events_define(database: Database) -> None:
    shop, pick = await _fill(database, 11)
    workspace_id = shop.workspace_id
    instants = [_at(pick, 24 * 26) for _ in range(25)] + [BEGIN, BEGIN + timedelta(days=40)]
    async with database.session() as session:
        stored = await session.scalars(
            select(MetricEvent.created_at).where(MetricEvent.workspace_id == workspace_id)
        )
        instants += [at for at in list(stored)[:40]]  # exactly at an event
        instants += [at + timedelta(microseconds=1) for at in instants[-20:]]
        raw, stretches = SupportReports(session, workspace_id), Backlog(session, workspace_id)
        checked = 0
        for scope in shop.scopes():
            for at in instants:
                expected = await raw.backlog(at, scope)
                assert await stretches.at(at, scope) == expected, (at, scope)
                checked += expected
            for by in ("channel", "team", "agent"):
                at = pick.choice(instants)
                grouped = await raw.opened_and_backlog_by(at - timedelta(days=2), at, scope, by)
                want = {key: pair[1] for key, pair in grouped.items() if pair[1]}
                assert await stretches.by(at, scope, by) == want
    assert checked > 100  # the histories leave conversations in the backlog


async def test_the_daily_backlog_cuts_local_days_of_the_workspace_zone(database: Database) -> None:
    shop, _ = await _fill(database, 23)
    workspace_id = shop.workspace_id
    # New York changes to daylight time on 2026-03-08: one local day of 23 hours.
    for zone in ("America/New_York", "Asia/Kathmandu", "UTC"):
        span = window(date(2026, 2, 27), date(2026, 3, 24), zone)
        bounds = [day.start for day in span.days()] + [span.end]
        async with database.session() as session:
            raw, stretches = SupportReports(session, workspace_id), Backlog(session, workspace_id)
            for scope in shop.scopes()[:3]:
                expected = [await raw.backlog(at, scope) for at in bounds[1:]]
                assert await stretches.per_bucket(bounds, scope) == expected, (zone, scope)


async def test_the_migration_back_fill_writes_the_triggers_rows(database: Database) -> None:
    shop, _ = await _fill(database, 5)
    workspace_id = shop.workspace_id
    from rapport.db.migrations.versions import (  # the migration's own back-fill statement
        __name__ as versions,
    )

    module = __import__(f"{versions}.20261202_0023_analytics_rollups", fromlist=["derive"])
    columns = (BacklogStretch.conversation_id, BacklogStretch.began_at, BacklogStretch.ended_at)
    mine = BacklogStretch.workspace_id == workspace_id
    async with database.session() as session:
        kept = set(await session.execute(select(*columns).where(mine)))
        await session.execute(delete(BacklogStretch))
        for statement in module.back_fill(postgres=database.is_postgres):
            await session.execute(text(statement))
        rebuilt = set(await session.execute(select(*columns).where(mine)))
    assert rebuilt == kept
    assert len(kept) > 100
