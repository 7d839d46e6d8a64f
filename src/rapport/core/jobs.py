"""Durable jobs: rows enqueued in the caller's transaction, run at least once, exactly once on
success (the handler's writes and the job's completion commit together, or, for a handler
that leaves its work to an after-commit step, that step's writes and the completion)."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Enum, Index, Integer, String, Text, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from rapport.core.clock import utcnow
from rapport.core.db import Base, IdMixin, after_commit

JobHandler = Callable[..., Awaitable[None]]
# The PostgreSQL channel on which committed enqueues wake the workers of other processes: a
# trigger on `jobs` (migration 0034) notifies it from the inserting statement itself, so an
# enqueue costs no round trip of its own; PostgreSQL delivers it when, and only if, the
# transaction commits.
JOBS_CHANNEL = "rapport_jobs"
_WAKEUP = "wakeup_registered"
_RUNNING = "job_running"  # session.info: the claimed job whose handler runs in the session
_FINISHED_LATER = "jobs_finished_later"  # session.info: jobs their after-commit step completes


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    dead = "dead"


class Job(IdMixin, Base):
    """One unit of background work."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "status", "run_at"),)

    name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    workspace_id: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, native_enum=False, length=16), default=JobStatus.queued
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class JobSchedule(Base):
    """A recurring job: the worker that moves `next_run_at` forward enqueues the run."""

    __tablename__ = "job_schedules"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    cron: Mapped[str] = mapped_column(String(100))
    next_run_at: Mapped[datetime]


@dataclass(frozen=True)
class JobDefinition:
    """A registered handler and its retry policy."""

    name: str
    handler: JobHandler
    max_attempts: int
    timeout_seconds: float


@dataclass(frozen=True)
class Lease:
    """A claimed job held by a worker: who may complete it, while the lease lasts."""

    job_id: str
    worker_id: str


# Every job's completion: built once, its values bound when it runs. Building the expression
# and matching it against the session's objects (which hold no claimed job) cost more CPU
# than running it.
DONE = (
    update(Job)
    .where(Job.id.in_(bindparam("ids", expanding=True)), Job.locked_by == bindparam("worker"))
    .values(status=JobStatus.done, finished_at=bindparam("now"), locked_until=None)
    .execution_options(synchronize_session=False)
)


@dataclass(frozen=True)
class ScheduleDefinition:
    """A registered recurring job."""

    job_name: str
    cron: str


_registry: dict[str, JobDefinition] = {}
_schedules: dict[str, ScheduleDefinition] = {}
_wakeups: list[Callable[[], None]] = []


def job(
    name: str, *, max_attempts: int = 8, timeout_seconds: float = 300
) -> Callable[[JobHandler], JobHandler]:
    """Register an async `handler(session, **payload)` under a `"domain.verb"` name; a job
    enqueued with a `workspace_id` also receives it as `workspace_id=`."""

    def register(handler: JobHandler) -> JobHandler:
        _registry[name] = JobDefinition(name, handler, max_attempts, timeout_seconds)
        return handler

    return register


def schedule(job_name: str, cron: str) -> None:
    """Run the registered job `job_name` on a cron schedule (UTC)."""
    _schedules[job_name] = ScheduleDefinition(job_name, cron)


def registered_job(name: str) -> JobDefinition | None:
    """Return the definition of a job, if registered."""
    return _registry.get(name)


def registered_jobs() -> list[JobDefinition]:
    """Return every registered job."""
    return list(_registry.values())


def registered_schedules() -> list[ScheduleDefinition]:
    """Return every recurring job."""
    return list(_schedules.values())


def on_enqueue(wakeup: Callable[[], None]) -> Callable[[], None]:
    """Call `wakeup` after any transaction that enqueued a job commits; returns an unsubscribe."""
    _wakeups.append(wakeup)
    return lambda: _wakeups.remove(wakeup)


def enqueue(
    session: AsyncSession,
    name: str,
    *,
    workspace_id: str | None = None,
    delay: timedelta | None = None,
    **payload: Any,
) -> Job:
    """Add a job row to the caller's transaction: it exists exactly when the change does."""
    definition = _registry.get(name)
    if definition is None:
        raise KeyError(f"no job registered as {name!r}")
    row = Job(
        name=name,
        payload=payload,
        workspace_id=workspace_id,
        run_at=utcnow() + (delay or timedelta()),
        max_attempts=definition.max_attempts,
    )
    session.add(row)
    if not session.info.get(_WAKEUP):
        session.info[_WAKEUP] = True
        after_commit(session, _wake_workers)
    return row


async def _wake_workers() -> None:
    for wakeup in list(_wakeups):
        wakeup()


def backoff(attempt: int) -> timedelta:
    """Return the wait before retry number `attempt` (exponential, capped at one hour)."""
    return timedelta(seconds=min(3600, 2 ** min(attempt, 12)))


def running(session: AsyncSession, lease: Lease) -> None:
    """Note the job whose handler the worker is about to run in `session`."""
    session.info[_RUNNING] = lease


def finish_later(session: AsyncSession) -> Lease | None:
    """Leave the running job's completion to later work (the handler's after-commit step):
    the worker's commit does not complete it, `complete(other_session, lease)` does, in the
    unit of work that writes the job's result. Should that never happen (the process died,
    the step failed), the lease runs out and the job runs again, as after a crash. Returns
    None when the handler was not run by a worker (nothing to complete)."""
    lease = session.info.get(_RUNNING)
    if not isinstance(lease, Lease):
        return None
    session.info.setdefault(_FINISHED_LATER, []).append(lease.job_id)
    return lease


def finished_later(session: AsyncSession) -> set[str]:
    """Return the ids of the jobs run in `session` whose completion was left to later."""
    return set(session.info.get(_FINISHED_LATER, ()))


async def complete(session: AsyncSession, lease: Lease) -> bool:
    """Complete a job left to later work, in `session`'s unit of work; False if its lease
    was lost (another worker took the job over, and runs it again)."""
    finished = await session.execute(
        DONE, {"ids": [lease.job_id], "worker": lease.worker_id, "now": utcnow()}
    )
    return bool(finished.rowcount == 1)  # type: ignore[attr-defined]
