"""Survey campaigns: POST /api/v1/surveys/{id}/campaigns sends a survey to every customer a
customers-list filter matches, a batch per job, skipping those within the throttle and,
for a marketing survey, those without the channel's consent."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.core.jobs import Job
from rapport.customers.consent import consent
from rapport.customers.enums import ConsentPurpose
from rapport.customers.schemas import ConsentChange
from rapport.events.enums import OrderStatus
from rapport.events.orders import OrderInput, orders
from rapport.feedback import campaigns
from rapport.feedback.models import SurveyInvitation
from rapport.worker.runner import Worker
from tests.fixtures.feedback import make_customer, make_survey
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.mail import Inbox, smtp_server


@pytest.fixture
def inbox(app: FastAPI) -> Iterator[Inbox]:
    """A real SMTP server that outbound email goes to (the app registered the jobs)."""
    with smtp_server() as inbox:
        yield inbox


async def _buyer(database: Database, workspace_id: str, email: str) -> str:
    customer_id = await make_customer(database, workspace_id, email)
    data = OrderInput(
        order_key=f"order-{email}", status=OrderStatus.completed, origin="event",
        channel="web", placed_at=utcnow(), customer_id=customer_id,
    )  # fmt: skip
    async with database.session() as session:
        await orders.apply(session, workspace_id, data)
        await orders.refresh_customer(session, workspace_id, customer_id)
    return customer_id


async def _invited(database: Database) -> list[str]:
    async with database.session() as session:
        rows = (await session.execute(select(SurveyInvitation.customer_id))).scalars().all()
    return sorted(str(row) for row in rows)


async def _batches(database: Database) -> int:
    async with database.session() as session:
        names = (await session.execute(select(Job.name))).scalars().all()
    return names.count(campaigns.CAMPAIGN_JOB)


async def test_a_campaign_sends_to_the_filtered_group_in_batches_past_the_throttle(
    database: Database, client: httpx.AsyncClient, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(campaigns, "BATCH", 2)
    workspace = await make_workspace(database)
    key = bearer(await make_api_key(database, workspace))
    buyers = [await _buyer(database, workspace.id, f"b{n}@example.com") for n in range(4)]
    await make_customer(database, workspace.id, "no-orders@example.com")
    survey = await make_survey(database, workspace.id, trigger={"event": "manual"})
    by_hand = await client.post(
        f"/api/v1/surveys/{survey.id}/sends", json={"customer_id": buyers[0]}, headers=key
    )
    started = await client.post(
        f"/api/v1/surveys/{survey.id}/campaigns", json={"has_orders": True}, headers=key
    )
    await Worker(database).run_pending()
    assert by_hand.status_code == 201
    assert started.status_code == 202
    assert (started.json()["survey_id"], started.json()["matching"]) == (survey.id, 4)
    assert await _invited(database) == sorted(buyers)  # buyers[0] once: throttled
    assert await _batches(database) == 2
    assert sorted(to for _, [to], _ in inbox.received) == [f"b{n}@example.com" for n in range(4)]


async def test_a_marketing_campaign_asks_only_customers_with_email_consent(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    workspace = await make_workspace(database)
    key = bearer(await make_api_key(database, workspace))
    agreed = await make_customer(database, workspace.id, "yes@example.com")
    await make_customer(database, workspace.id, "no@example.com")
    async with database.session() as session:
        change = ConsentChange(purpose=ConsentPurpose.marketing_email, granted=True)
        await consent.record(session, workspace.id, agreed, change, actor="test")
    survey = await make_survey(database, workspace.id, marketing=True, channels=["email"])
    started = await client.post(f"/api/v1/surveys/{survey.id}/campaigns", json={}, headers=key)
    await Worker(database).run_pending()
    assert (started.status_code, started.json()["matching"]) == (202, 2)
    assert await _invited(database) == [agreed]


async def test_a_bad_campaign_is_refused_clearly(
    database: Database, client: httpx.AsyncClient
) -> None:
    workspace = await make_workspace(database)
    key = bearer(await make_api_key(database, workspace))
    survey = await make_survey(database, workspace.id, active=False)
    path = f"/api/v1/surveys/{survey.id}/campaigns"
    unknown = await client.post(f"/api/v1/surveys/{'0' * 32}/campaigns", json={}, headers=key)
    bad_purpose = await client.post(path, json={"consent": "telepathy"}, headers=key)
    inactive = await client.post(path, json={}, headers=key)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "SurveyNotFound")
    assert bad_purpose.status_code == 422
    assert (inactive.status_code, inactive.json()["error"]) == (409, "SurveyNotSent")
    assert await _batches(database) == 0
