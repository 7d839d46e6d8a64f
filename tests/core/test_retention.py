"""Retention: old rows go, a chunk per transaction; nothing younger, or still needed, goes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from rapport.core import retention
from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.core.ids import first_id_at
from rapport.core.jobs import Job, JobStatus, enqueue, registered_schedules
from rapport.core.outbox import DomainEvent
from rapport.identity.models import SignInFailure
from rapport.webhooks.enums import DeliveryStatus
from rapport.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from rapport.worker.runner import Worker, load_tasks
from tests.fixtures.identity import make_workspace


def made_at(moment: datetime) -> str:
    """Return an id as it would have been made at `moment` (ids sort by creation time)."""
    return first_id_at(moment)[:12] + uuid.uuid4().hex[:20]


def days_ago(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


async def prune_everything(database: Database) -> None:
    load_tasks()  # as `rapport serve` and `rapport worker` do: every domain's rules
    async with database.session() as session:
        enqueue(session, retention.PRUNE_JOB)
    await Worker(database).run_pending()


async def prune_runs(database: Database, rule: str) -> int:
    """Count the finished runs of one rule (each a chunk in a transaction of its own)."""
    async with database.session() as session:
        runs = await session.execute(select(Job).where(Job.name == retention.PRUNE_JOB))
        return sum(
            1
            for run in runs.scalars()
            if run.payload.get("rule") == rule and run.status == JobStatus.done
        )


def test_every_domain_that_keeps_history_registers_a_rule() -> None:
    load_tasks()
    names = {rule.name for rule in retention.retention_rules()}
    assert {"jobs", "domain_events", "webhook_deliveries", "sign_in_failures"} <= names
    assert retention.PRUNE_JOB in {schedule.job_name for schedule in registered_schedules()}


async def test_old_finished_jobs_go_a_chunk_at_a_time(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "PRUNE_CHUNK", 2)
    old, month_ago = days_ago(8), days_ago(30)
    async with database.session() as session:
        for marker in ("old-1", "old-2", "old-3"):
            session.add(
                Job(
                    id=made_at(month_ago),
                    name="test.record_effect",
                    payload={"marker": marker},
                    status=JobStatus.done,
                    finished_at=old,
                )
            )
        # A job dead for a week stays to be read; one made long ago that finished today stays.
        session.add(
            Job(
                id=made_at(month_ago),
                name="test.always_fails",
                status=JobStatus.dead,
                finished_at=old,
            )
        )
        # Dead for longer than a month: gone too.
        session.add(
            Job(
                id=made_at(days_ago(40)),
                name="test.always_fails",
                payload={"marker": "dead-long-ago"},
                status=JobStatus.dead,
                finished_at=days_ago(31),
            )
        )
        session.add(
            Job(
                id=made_at(month_ago),
                name="test.record_effect",
                payload={"marker": "finished-today"},
                status=JobStatus.done,
                finished_at=utcnow(),
            )
        )

    await prune_everything(database)

    async with database.session() as session:
        left = (await session.execute(select(Job))).scalars().all()
    markers = {job.payload.get("marker") for job in left if job.name != retention.PRUNE_JOB}
    assert markers == {None, "finished-today"}  # None: the dead job
    assert [job.status for job in left if job.name == "test.always_fails"] == [JobStatus.dead]
    # Six jobs made a month ago or more, looked at two a chunk: a full chunk queues the next,
    # the empty fourth ends the chain (the rest of the table, made just now, is not looked at).
    assert await prune_runs(database, "jobs") == 4


async def test_domain_events_older_than_a_month_go(database: Database) -> None:
    async with database.session() as session:
        for days in (45, 31):
            session.add(DomainEvent(id=made_at(days_ago(days)), workspace_id="w", name="old"))
        for days in (29, 0):
            session.add(DomainEvent(id=made_at(days_ago(days)), workspace_id="w", name="kept"))

    await prune_everything(database)

    async with database.session() as session:
        names = (await session.execute(select(DomainEvent.name))).scalars().all()
    assert sorted(names) == ["kept", "kept"]


async def test_settled_webhook_deliveries_go_with_their_attempts(database: Database) -> None:
    workspace = await make_workspace(database)
    async with database.session() as session:
        endpoint = WebhookEndpoint(
            workspace_id=workspace.id, url="https://shop.example/hooks", secret=b"sealed"
        )
        session.add(endpoint)
        await session.flush()

        def delivery(days: int, status: DeliveryStatus, event_id: str) -> WebhookDelivery:
            return WebhookDelivery(
                id=made_at(days_ago(days)),
                workspace_id=workspace.id,
                endpoint_id=endpoint.id,
                event_id=event_id,
                event_type="message.created",
                status=status,
            )

        rows = [
            delivery(40, DeliveryStatus.delivered, "old-delivered"),
            delivery(40, DeliveryStatus.failed, "old-failed"),
            delivery(40, DeliveryStatus.pending, "old-pending"),  # still being retried
            delivery(2, DeliveryStatus.delivered, "recent"),
        ]
        session.add_all(rows)
        await session.flush()
        for row in rows:
            for number in (1, 2):
                session.add(
                    WebhookAttempt(workspace_id=workspace.id, delivery_id=row.id, number=number)
                )

    await prune_everything(database)

    async with database.session() as session:
        kept = (await session.execute(select(WebhookDelivery.event_id))).scalars().all()
        attempts = await session.execute(
            select(WebhookDelivery.event_id, func.count())
            .join(WebhookAttempt, WebhookAttempt.delivery_id == WebhookDelivery.id)
            .group_by(WebhookDelivery.event_id)
        )
        orphans = await session.execute(
            select(func.count())
            .select_from(WebhookAttempt)
            .where(~WebhookAttempt.delivery_id.in_(select(WebhookDelivery.id)))
        )
        assert sorted(kept) == ["old-pending", "recent"]
        assert dict(attempts.tuples().all()) == {"old-pending": 2, "recent": 2}
        assert orphans.scalar_one() == 0


async def test_rows_that_stay_do_not_hold_up_the_ones_after_them(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "PRUNE_CHUNK", 2)
    async with database.session() as session:
        for _ in range(4):  # two whole chunks of jobs that stay, oldest first
            session.add(
                Job(id=made_at(days_ago(40)), name="test.always_fails", status=JobStatus.dead)
            )
        for _ in range(2):
            session.add(
                Job(
                    id=made_at(days_ago(35)),
                    name="test.record_effect",
                    status=JobStatus.done,
                    finished_at=days_ago(35),
                )
            )

    await prune_everything(database)

    async with database.session() as session:
        names = await session.execute(select(Job.name).where(Job.name != retention.PRUNE_JOB))
        assert sorted(names.scalars()) == ["test.always_fails"] * 4


async def test_failed_sign_ins_go_once_no_window_counts_them(database: Database) -> None:
    async with database.session() as session:
        for days in (3, 0):
            session.add(SignInFailure(id=made_at(days_ago(days)), key=f"key-{days}"))

    await prune_everything(database)

    async with database.session() as session:
        keys = (await session.execute(select(SignInFailure.key))).scalars().all()
    assert keys == ["key-0"]
