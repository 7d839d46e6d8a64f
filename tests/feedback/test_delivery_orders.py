"""The order trigger: a survey sent N days after the shop marks an order delivered (as a
job, by email), not on shipping, and never for imported orders."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.core.jobs import Job
from rapport.events.enums import OrderStatus
from rapport.events.imports import imports, read_invoices
from rapport.events.order_actions import order_actions
from rapport.events.orders import OrderInput, orders
from rapport.feedback.models import SurveyInvitation
from rapport.worker.runner import Worker
from tests.events.test_imports import EXTRA, _write
from tests.fixtures.feedback import LINK, make_customer, make_survey
from tests.fixtures.identity import make_workspace
from tests.fixtures.jobs import FrozenClock
from tests.fixtures.mail import Inbox, smtp_server

DELIVERED_IN_3_DAYS = {"event": "order_delivered", "delay_days": 3}


@pytest.fixture
def inbox(app: FastAPI) -> Iterator[Inbox]:
    """A real SMTP server that outbound email goes to (the app registered the jobs)."""
    with smtp_server() as inbox:
        yield inbox


async def _order(database: Database, workspace_id: str, customer_id: str, key: str) -> None:
    data = OrderInput(
        order_key=key, status=OrderStatus.completed, origin="event", channel="web",
        placed_at=utcnow(), customer_id=customer_id,
    )  # fmt: skip
    async with database.session() as session:
        await orders.apply(session, workspace_id, data)


async def _mark(database: Database, workspace_id: str, key: str, *, delivered: bool) -> None:
    async with database.session() as session:
        await order_actions.mark_shipped(session, workspace_id, key, delivered=delivered)


async def _job_names(database: Database) -> list[str]:
    async with database.session() as session:
        names = (await session.execute(select(Job.name).order_by(Job.name))).scalars().all()
    return [name for name in names if name.startswith("feedback.")]


async def test_the_survey_goes_three_days_after_delivery_not_on_shipping(
    database: Database, inbox: Inbox
) -> None:
    clock = FrozenClock()
    workspace = await make_workspace(database)
    customer_id = await make_customer(database, workspace.id, "ana@example.com")
    survey = await make_survey(
        database, workspace.id, trigger=DELIVERED_IN_3_DAYS, channels=["email"]
    )
    await _order(database, workspace.id, customer_id, "A-1")
    await _mark(database, workspace.id, "A-1", delivered=False)
    await Worker(database).run_pending()
    after_shipping = await _job_names(database)
    await _mark(database, workspace.id, "A-1", delivered=True)
    await Worker(database).run_pending()
    clock.advance(timedelta(days=2, hours=23))
    await Worker(database).run_pending()
    before_delay = len(inbox.received)
    clock.advance(timedelta(hours=2))
    await Worker(database).run_pending()
    async with database.session() as session:
        [invitation] = (await session.execute(select(SurveyInvitation))).scalars().all()
    assert after_shipping == ["feedback.survey_delivered_order"]
    assert (before_delay, len(inbox.received)) == (0, 1)
    assert inbox.received[0][1] == ["ana@example.com"]
    assert LINK.search(inbox.received[0][2].get_content()) is not None
    assert (invitation.survey_id, invitation.customer_id, invitation.channel) == (
        survey.id, customer_id, "email",
    )  # fmt: skip


async def test_importing_orders_queues_no_survey_job_and_an_imported_order_sends_none(
    database: Database, inbox: Inbox, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    await make_survey(database, workspace.id, trigger={"event": "order_delivered"})
    with _write(tmp_path / "orders.csv", EXTRA).open(newline="") as stream:
        invoices = read_invoices(stream)
        while batch := list(itertools.islice(invoices, 2)):
            async with database.session() as session:
                assert await imports.import_invoices(session, workspace.id, batch) > 0
    after_import = await _job_names(database)
    await _mark(database, workspace.id, "900001", delivered=True)
    await Worker(database).run_pending()
    async with database.session() as session:
        invitations = (await session.execute(select(SurveyInvitation))).scalars().all()
    assert after_import == []
    assert await _job_names(database) == ["feedback.survey_delivered_order"]
    assert (invitations, inbox.received) == ([], [])
