"""Outbound email through a real SMTP server: delivery as jobs, retries, invitations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from rapport.core.db import Database
from rapport.core.jobs import Job, JobStatus
from rapport.identity.invitations import invitation_link
from rapport.messaging.enums import DeliveryStatus
from rapport.messaging.models import OutboundEmail
from rapport.messaging.service import DELIVER_JOB, outbound
from rapport.worker.runner import Worker
from tests.fixtures.identity import make_invitation, make_workspace
from tests.fixtures.jobs import FrozenClock
from tests.fixtures.mail import BASE_URL, MAIL_FROM, Inbox, smtp_server


@pytest.fixture
def inbox(app: FastAPI) -> Iterator[Inbox]:
    """A real SMTP server that outbound email goes to (the app registered the jobs)."""
    with smtp_server() as inbox:
        yield inbox


async def queue_email(database: Database, workspace_id: str) -> str:
    """Queue one email to a customer; return its outbound id."""
    message = EmailMessage()
    message["To"] = "ana@example.com"
    message["Subject"] = "Your order"
    message.set_content("It ships today.")
    async with database.session() as session:
        return (await outbound.queue(session, workspace_id, message, purpose="test")).id


async def outbound_email(database: Database, outbound_email_id: str) -> OutboundEmail:
    async with database.session() as session:
        return (await session.execute(select(OutboundEmail).where(
            OutboundEmail.id == outbound_email_id))).scalar_one()  # fmt: skip


async def delivery_jobs(database: Database) -> list[Job]:
    async with database.session() as session:
        query = select(Job).where(Job.name == DELIVER_JOB)
        return list((await session.execute(query)).scalars())


async def test_queued_email_is_delivered_by_a_job(database: Database, inbox: Inbox) -> None:
    workspace = await make_workspace(database)
    email_id = await queue_email(database, workspace.id)

    assert inbox.received == []  # nothing is sent inside the unit of work that queued it
    await Worker(database).run_pending()

    [(sender, recipients, message)] = inbox.received
    assert (sender, recipients) == ("support@shop.example", ["ana@example.com"])
    assert (message["From"], message["Subject"]) == (MAIL_FROM, "Your order")
    assert message.get_content() == "It ships today.\n"
    stored = await outbound_email(database, email_id)
    assert (stored.status, stored.attempts, stored.last_error) == (DeliveryStatus.sent, 1, None)
    assert stored.message_id == message["Message-ID"]
    assert stored.message_id.endswith("@shop.example>")
    # The retry queued before the send found it delivered and did nothing.
    statuses = sorted(job.status for job in await delivery_jobs(database))
    assert statuses == [JobStatus.done, JobStatus.queued]


async def test_a_failing_server_leaves_the_email_queued_for_a_retry(
    database: Database, inbox: Inbox
) -> None:
    clock = FrozenClock()
    workspace = await make_workspace(database)
    email_id = await queue_email(database, workspace.id)
    inbox.reply = "451 4.3.0 Try again later"

    await Worker(database).run_pending()

    stored = await outbound_email(database, email_id)
    assert (stored.status, stored.attempts, stored.last_error) == (
        DeliveryStatus.queued, 1, "SMTP 451",
    )  # fmt: skip
    jobs = await delivery_jobs(database)
    assert sorted(job.status for job in jobs) == [JobStatus.done, JobStatus.queued]
    [retry] = [job for job in jobs if job.status == JobStatus.queued]
    assert retry.run_at == clock.now + timedelta(seconds=60 + 2)

    inbox.reply = "250 Message accepted"
    clock.advance(timedelta(seconds=62))
    await Worker(database).run_pending()

    assert len(inbox.received) == 1
    stored = await outbound_email(database, email_id)
    assert (stored.status, stored.attempts, stored.last_error) == (DeliveryStatus.sent, 2, None)


async def test_a_refused_recipient_is_given_up_at_once(database: Database, inbox: Inbox) -> None:
    workspace = await make_workspace(database)
    email_id = await queue_email(database, workspace.id)
    inbox.reply = "554 5.7.1 Rejected"

    await Worker(database).run_pending()

    stored = await outbound_email(database, email_id)
    assert (stored.status, stored.attempts, stored.last_error) == (
        DeliveryStatus.dead, 1, "SMTP 554",
    )  # fmt: skip


async def test_a_staff_invitation_is_emailed_its_link(database: Database, inbox: Inbox) -> None:
    workspace = await make_workspace(database)
    issued = await make_invitation(database, workspace, "new.agent@example.com")

    await Worker(database).run_pending()

    [(_, recipients, message)] = inbox.received
    assert recipients == ["new.agent@example.com"]
    assert message["Subject"] == "You are invited to Rapport"
    assert invitation_link(BASE_URL, issued.token) in message.get_content()
    async with database.session() as session:
        payloads = [job.payload for job in (await session.execute(select(Job))).scalars()]
    assert all(issued.token not in str(payload) for payload in payloads)  # sealed in the jobs


async def test_without_smtp_an_invitation_sends_nothing(app: FastAPI, database: Database) -> None:
    outbound.configure(None, MAIL_FROM, BASE_URL)
    workspace = await make_workspace(database)
    await make_invitation(database, workspace, "new.agent@example.com")

    await Worker(database).run_pending()

    async with database.session() as session:
        assert (await session.execute(select(OutboundEmail))).scalars().all() == []
