"""`rapport demo`'s history: six months of orders, conversations and survey answers in the
demo workspace, so the CX dashboard is full on first sign-in.

Seeded, so every run drafts the same rows (relative to today), and keyed, so a second run
adds nothing. Staff, teams, customers and orders go through their domains' services (orders
through the bulk `orders.apply_many`); conversations, their messages and metric events are
written as rows here, in the CLI layer, with a few INSERTs per chunk: replaying each one
through the support service on a moving clock would take minutes, not seconds. Survey
answers go through the feedback repository's deduplicating bulk insert."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from rich.progress import Progress
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.cli.common import console
from rapport.cli.demo_desk import (
    DeskDraft,
    Drafted,
    Staffing,
    conversation_id,
    legacy_conversation_id,
)
from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.customers.schemas import IdentitySignal, Observed
from rapport.customers.service import customers
from rapport.events.enums import OrderOrigin, OrderStatus
from rapport.events.order_repository import OrderRepository
from rapport.events.orders import OrderInput, orders
from rapport.feedback.repository import ResponseRepository
from rapport.feedback.schemas import SurveyCreate
from rapport.feedback.service import feedback
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role
from rapport.identity.errors import AlreadyMember
from rapport.identity.schemas import StaffCreate
from rapport.identity.service import staff, staff_password, workspaces
from rapport.support.models import Conversation, Message, MetricEvent
from rapport.support.teams import teams

HISTORY_DAYS = 182
CUSTOMERS = 500
CONVERSATIONS = 600
# Conversations opened in the last hours, still open: what the live tile shows.
OPEN_NOW = 8
CHUNK = 200
TEAMS = {
    "Orders & delivery": (("Maya Lopez", "maya"), ("Tom Becker", "tom")),
    "Returns & billing": (("Priya Nair", "priya"), ("Sam Okafor", "sam")),
}
SURVEYS = {
    "nps": ("Recommend us (NPS)", "How likely are you to recommend us to a friend?"),
    "csat": ("After support (CSAT)", "How satisfied are you with our help?"),
    "ces": ("Effort (CES)", "How easy was it to get your problem solved?"),
}
# Orders per 30 days, by kind of customer; and the chance a customer stops buying.
RATES = (0.5, 0.9, 1.4, 2.2, 3.2)
CHURN_CHANCE = 0.5


@dataclass(frozen=True)
class HistoryCounts:
    """What one run added."""

    orders: int = 0
    conversations: int = 0
    answers: int = 0


def customer_user_id(number: int) -> str:
    """Return the demo customer's user id."""
    return f"demo-customer-{number:04d}"


def planned_orders(now: datetime, customer_ids: Sequence[str]) -> list[OrderInput]:
    """Return every demo customer's orders over the history: first orders spread over the
    months, repeat purchases at the customer's own pace, some stopping, some cancelled."""
    planned = []
    for number, customer_id in enumerate(customer_ids):
        generator = random.Random(f"demo-orders-{number}")  # noqa: S311 (demo data)
        rate = generator.choice(RATES) / 30
        placed = now - timedelta(days=generator.uniform(0, HISTORY_DAYS))
        stops = placed + timedelta(days=generator.uniform(20, 150))
        churns = generator.random() < CHURN_CHANCE
        sequence = 0
        while placed < now and not (churns and placed > stops):
            planned.append(_order(generator, customer_id, number, sequence, placed))
            placed += timedelta(days=generator.expovariate(rate) + 0.5)
            sequence += 1
    return planned


def _order(
    generator: random.Random, customer_id: str, number: int, sequence: int, placed: datetime
) -> OrderInput:
    roll = generator.random()
    status = OrderStatus.cancelled if roll < 0.05 else OrderStatus.completed
    total = Decimal(generator.randint(1500, 18000)) / 100
    refunded = None
    if 0.05 <= roll < 0.08:
        status, refunded = OrderStatus.refunded, total
    return OrderInput(
        order_key=f"demo-{number:04d}-{sequence:03d}", status=status, origin=OrderOrigin.csv,
        channel="web", placed_at=placed, customer_id=customer_id, currency="USD",
        total=total, refunded=refunded,
    )  # fmt: skip


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """Yield `items` a chunk at a time."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _staffing(database: Database, workspace_id: str) -> Staffing:
    """Add the demo agents and surveys (once) and put the agents in their teams."""
    async with database.session() as session:
        present = set((await staff.names(session, workspace_id)).values())
    agents = [
        StaffCreate(email=f"{login}@demo.example.com", display_name=name, role=Role.agent)
        for members in TEAMS.values()
        for name, login in members
        if name not in present
    ]
    # Hashed before the unit of work (nobody signs in as these agents: their passwords are
    # generated and never shown).
    passwords = [await staff_password(body.email) for body in agents]
    async with database.session() as session:
        for body, password in zip(agents, passwords, strict=True):
            try:
                await staff.add(
                    session, workspace_id=workspace_id, body=body, actor=SYSTEM, password=password
                )
            except AlreadyMember:
                continue
    async with database.session() as session:
        ids = {
            name: staff_id for staff_id, name in (await staff.names(session, workspace_id)).items()
        }
        known = {team.name: team.id for team in await teams.list(session, workspace_id)}
        staffing: dict[str, list[str]] = {}
        for team_name, members in TEAMS.items():
            team_id = (
                known.get(team_name) or (await teams.create(session, workspace_id, team_name)).id
            )
            staffing[team_id] = [ids[name] for name, _login in members]
            for staff_id in staffing[team_id]:
                await teams.add_member(session, workspace_id, team_id, staff_id)
        surveys = await _surveys(session, workspace_id)
    return Staffing(staffing, surveys)


async def _surveys(session: AsyncSession, workspace_id: str) -> dict[str, str]:
    """Add the demo's NPS, CSAT and CES surveys (once, switched off: they send nothing
    until someone turns them on) and return their ids by kind."""
    known = {
        survey.name: survey.id for survey in await feedback.list_surveys(session, workspace_id)
    }
    found = {}
    for kind, (name, text) in SURVEYS.items():
        if name not in known:
            body = SurveyCreate.model_validate(
                {"name": name, "kind": kind, "active": False,
                 "questions": [{"id": kind, "type": kind, "text": text}]}
            )  # fmt: skip
            known[name] = (await feedback.create_survey(session, workspace_id, body)).id
        found[kind] = known[name]
    return found


FIRST_NAMES = ("Ana", "Ben", "Clara", "David", "Emma", "Farid", "Grace", "Hugo", "Ines",
               "Jonas", "Keiko", "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa",
               "Sami", "Tara")  # fmt: skip
LAST_NAMES = ("Almeida", "Becker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen",
              "Ito", "Jensen", "Kowalski", "Larsen", "Meyer", "Nowak", "Okafor", "Petrov",
              "Rossi", "Silva", "Tanaka", "Weber", "Young", "Zhang", "Novak", "Haddad",
              "Moreau")  # fmt: skip


def customer_name(number: int) -> str:
    """Return demo customer `number`'s name (each of the 500 its own)."""
    first = FIRST_NAMES[number % len(FIRST_NAMES)]
    return f"{first} {LAST_NAMES[number // len(FIRST_NAMES) % len(LAST_NAMES)]}"


def _signal(number: int, at: datetime) -> IdentitySignal:
    """Identify a demo customer: user id, name and email (at example.com), as a shop's
    sign-up would."""
    name = customer_name(number)
    email = f"{name.lower().replace(' ', '.')}@example.com"
    return IdentitySignal(
        identifiers=[Observed("user_id", customer_user_id(number)), Observed("email", email)],
        at=at, channel="web", source="demo", reason="identify",
        traits={"name": name, "email": email},
    )  # fmt: skip


async def _customers(database: Database, workspace_id: str, now: datetime) -> list[str]:
    """Resolve the demo customers (the same profiles on every run)."""
    signals = [_signal(number, now - timedelta(days=HISTORY_DAYS)) for number in range(CUSTOMERS)]
    async with database.session() as session:
        resolved = await customers.resolve(session, workspace_id, signals)
    found = [outcome.customer_id for outcome in resolved]
    if any(customer_id is None for customer_id in found):
        raise RuntimeError("A demo customer could not be resolved.")
    return [customer_id for customer_id in found if customer_id is not None]


async def _orders(
    database: Database, workspace_id: str, planned: list[OrderInput], progress: Progress
) -> int:
    """Write the planned orders not written yet, a chunk per unit of work."""
    task = progress.add_task("Orders", total=len(planned))
    added = 0
    for chunk in chunks(planned, 500):
        async with database.session() as session:
            known = await OrderRepository(session, workspace_id).by_keys(
                [order.order_key for order in chunk]
            )
            fresh = [order for order in chunk if order.order_key not in known]
            if fresh:
                await orders.apply_many(session, workspace_id, fresh)
                buyers = sorted({order.customer_id for order in fresh if order.customer_id})
                await orders.refresh_customers(session, workspace_id, buyers)
        added += len(fresh)
        progress.advance(task, len(chunk))
    return added


async def _desk(
    database: Database,
    workspace_id: str,
    now: datetime,
    customer_ids: list[str],
    staffing: Staffing,
    progress: Progress,
) -> tuple[int, int]:
    """Write the demo conversations not written yet, with their survey answers."""
    task = progress.add_task("Conversations", total=CONVERSATIONS)
    added = answers = 0
    for numbers in chunks(range(CONVERSATIONS)):
        async with database.session() as session:
            missing = await _missing(session, workspace_id, list(numbers))
            drafts = [
                _draft(workspace_id, number, now, customer_ids, staffing) for number in missing
            ]
            await _write(session, drafts)
            rows = [answer for draft in drafts for answer in draft.answers]
            answers += await ResponseRepository(session, workspace_id).insert_new(rows)
        added += len(drafts)
        progress.advance(task, len(numbers))
    return added, answers


async def _missing(session: AsyncSession, workspace_id: str, numbers: list[int]) -> list[int]:
    ids = {conversation_id(workspace_id, number, _opened(number)[0]): number for number in numbers}
    # Demo data seeded before 2026-12-04 named its conversations by a plain hash.
    ids |= {legacy_conversation_id(workspace_id, number): number for number in numbers}
    query = select(Conversation.id).where(
        Conversation.workspace_id == workspace_id, Conversation.id.in_(sorted(ids))
    )
    stored = {ids[str(row[0])] for row in await session.execute(query)}
    return [number for number in numbers if number not in stored]


def _opened(number: int) -> tuple[timedelta, random.Random]:
    """Return how long before the seeding demo conversation `number` opened, and the
    generator that drafts the rest of it."""
    generator = random.Random(f"demo-opened-{number}")  # noqa: S311 (demo data)
    if number < OPEN_NOW:
        return timedelta(minutes=generator.uniform(5, 300)), generator
    return timedelta(hours=generator.uniform(6, HISTORY_DAYS * 24)), generator


def _draft(
    workspace_id: str, number: int, now: datetime, customer_ids: list[str], staffing: Staffing
) -> Drafted:
    age, generator = _opened(number)
    customer_id = customer_ids[generator.randrange(len(customer_ids))]
    return DeskDraft(workspace_id, number, now - age, now, staffing).draft(customer_id)


async def _write(session: AsyncSession, drafts: list[Drafted]) -> None:
    """Insert a chunk's conversations, then their messages and metric events."""
    if not drafts:
        return
    await session.execute(insert(Conversation), [draft.conversation for draft in drafts])
    messages = [message for draft in drafts for message in draft.messages]
    await session.execute(insert(Message), messages)
    events = [event for draft in drafts for event in draft.events]
    if events:
        await session.execute(insert(MetricEvent), events)


async def seed_history(database: Database, workspace_id: str) -> HistoryCounts:
    """Give the demo workspace its six months of history (what is missing of it)."""
    now = utcnow().replace(second=0, microsecond=0)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Staff and customers", total=2)
        staffing = await _staffing(database, workspace_id)
        progress.advance(task)
        customer_ids = await _customers(database, workspace_id, now)
        progress.advance(task)
        added_orders = await _orders(
            database, workspace_id, planned_orders(now, customer_ids), progress
        )
        added, answers = await _desk(database, workspace_id, now, customer_ids, staffing, progress)
    return HistoryCounts(added_orders, added, answers)


async def seed_demo_history(database: Database, slug: str) -> HistoryCounts:
    """Seed the history of the workspace `slug` and say what was added."""
    async with database.session() as session:
        workspace = await workspaces.get_by_slug(session, slug)
    added = await seed_history(database, workspace.id)
    console.print(
        f"History   {added.orders} orders, {added.conversations} conversations and "
        f"{added.answers} survey answers added (the last {HISTORY_DAYS} days)"
    )
    return added
