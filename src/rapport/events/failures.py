"""Processing outcomes of stored calls: processed ones marked, failed ones kept (with their
error class, where it was raised and how many attempts failed) until re-processed."""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.ids import new_ids
from rapport.core.repository import TenantRepository
from rapport.events.models import ProcessingFailure
from rapport.events.repository import EventRepository

PACKAGE = Path(__file__).resolve().parents[1]


class FailureRead(BaseModel):
    """A stored call whose processing failed."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="The failure record.")
    event_id: str = Field(description="The stored call (its row id).")
    source_id: str | None = Field(description="The source that sent it (None: a secret key).")
    error: str = Field(description="The class of the error that stopped it.")
    location: str = Field(description="Where in Rapport the error was raised.")
    attempts: int = Field(description="How many times its processing failed.")
    last_failed_at: datetime = Field(description="When it last failed.")


class SourceFailures(BaseModel):
    """How many of a source's calls failed processing."""

    source_id: str | None = Field(description="The source (None: calls from secret keys).")
    calls: int = Field(description="Calls whose processing failed and that wait unprocessed.")
    last_failed_at: datetime = Field(description="When the latest of them failed.")


@dataclass(frozen=True)
class Failed:
    """A call whose processing failed, and why (class and place, never the message)."""

    event_id: str
    source_id: str | None
    error: str
    location: str


def failed(event_id: str, source_id: str | None, error: BaseException) -> Failed:
    """Describe a failure by its error's class and the innermost Rapport frame it crossed:
    enough to find the defect, and never a value the message might quote."""
    location = "unknown"
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        path = Path(frame.filename)
        if path.is_relative_to(PACKAGE):
            location = f"{path.relative_to(PACKAGE.parent)}:{frame.lineno} in {frame.name}"
            break
    return Failed(event_id, source_id, type(error).__name__[:100], location[:255])


class FailureRepository(TenantRepository[ProcessingFailure]):
    model = ProcessingFailure

    async def mark_processed(self, resolved: list[tuple[str, str | None]]) -> None:
        """Mark calls processed with their profile, in one statement."""
        await EventRepository(self.session, self.workspace_id).mark_processed(resolved)

    async def record(self, failures: list[Failed]) -> None:
        """Keep failures, one row per call: a call failing again counts one more attempt."""
        if not failures:
            return
        now = utcnow()
        statement = self.upserting().values(
            [
                {
                    "id": failure_id,
                    "created_at": now,
                    "workspace_id": self.workspace_id,
                    "event_id": failure.event_id,
                    "source_id": failure.source_id,
                    "error": failure.error,
                    "location": failure.location,
                    "attempts": 1,
                    "last_failed_at": now,
                }
                for failure_id, failure in zip(new_ids(len(failures)), failures, strict=True)
            ]
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["workspace_id", "event_id"],
                set_={
                    "error": statement.excluded.error,
                    "location": statement.excluded.location,
                    "attempts": ProcessingFailure.attempts + 1,
                    "last_failed_at": statement.excluded.last_failed_at,
                },
            )
        )

    async def clear(self, event_ids: list[str]) -> None:
        """Forget the failures of calls now processed (nothing to do, and no statement over
        the calls, while the workspace has no failure at all: the usual case)."""
        if event_ids and await self.any():
            await self.session.execute(
                delete(ProcessingFailure).where(
                    ProcessingFailure.workspace_id == self.workspace_id,
                    ProcessingFailure.event_id.in_(event_ids),
                )
            )

    async def any(self) -> bool:
        """Tell whether the workspace has any failure recorded."""
        found = await self.session.execute(
            select(ProcessingFailure.id)
            .where(ProcessingFailure.workspace_id == self.workspace_id)
            .limit(1)
        )
        return found.first() is not None

    async def per_source(self) -> list[tuple[str | None, int, datetime]]:
        """Return (source, failed calls, last failure) for every source with failures."""
        rows = await self.session.execute(
            select(
                ProcessingFailure.source_id,
                func.count(),
                func.max(ProcessingFailure.last_failed_at),
            )
            .where(ProcessingFailure.workspace_id == self.workspace_id)
            .group_by(ProcessingFailure.source_id)
            .order_by(ProcessingFailure.source_id)
        )
        return [(row[0], int(row[1]), row[2]) for row in rows]

    async def count_of(self, event_ids: list[str]) -> int:
        """Count the failures recorded for some calls."""
        return await self.count(self.base_query().where(ProcessingFailure.event_id.in_(event_ids)))

    async def oldest(self, limit: int, after: str | None = None) -> Sequence[ProcessingFailure]:
        """Return failures in the order they were first recorded, after an id."""
        query = self.base_query()
        if after is not None:
            query = query.where(ProcessingFailure.id > after)
        return await self.all(query.order_by(ProcessingFailure.id).limit(limit))


class ProcessingFailures:
    async def settle(
        self,
        session: AsyncSession,
        workspace_id: str,
        resolved: list[tuple[str, str | None]],
        failures: list[Failed],
    ) -> None:
        """Mark a chunk's processed calls (forgetting their earlier failures) and keep its
        failed ones unprocessed, their failure recorded."""
        repository = FailureRepository(session, workspace_id)
        await repository.mark_processed(resolved)
        await repository.clear([event_id for event_id, _ in resolved])
        await repository.record(failures)

    async def per_source(self, session: AsyncSession, workspace_id: str) -> list[SourceFailures]:
        """Count each source's calls whose processing failed (calls from secret keys: None)."""
        rows = await FailureRepository(session, workspace_id).per_source()
        return [SourceFailures(source_id=s, calls=n, last_failed_at=at) for s, n, at in rows]

    async def oldest(
        self, session: AsyncSession, workspace_id: str, *, limit: int, after: str | None = None
    ) -> list[FailureRead]:
        """Return failures, oldest first."""
        rows = await FailureRepository(session, workspace_id).oldest(limit, after)
        return [FailureRead.model_validate(row) for row in rows]

    async def still_failing(
        self, session: AsyncSession, workspace_id: str, event_ids: list[str]
    ) -> int:
        """Count which of some calls still have a failure recorded."""
        return await FailureRepository(session, workspace_id).count_of(event_ids)


processing_failures = ProcessingFailures()
