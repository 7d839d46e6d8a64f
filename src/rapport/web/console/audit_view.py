"""The audit log tab's parts: its filters from the query string and the names of targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Query
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.errors import UnprocessableContent
from rapport.identity.enums import ActorType, Scope
from rapport.identity.keys import api_keys, sources
from rapport.identity.models import AuditEvent
from rapport.identity.repository import AuditFilter
from rapport.web.console.context import ConsoleContext
from rapport.web.console.templating import zone_named

# Actors that are no staff member, by their type, as the actor filter offers them.
OTHER_ACTORS = {
    ActorType.api_key: "An API key",
    ActorType.system: "The system (CLI, jobs)",
    ActorType.anonymous: "Someone not signed in",
}


@dataclass(frozen=True)
class AuditQuery:
    """The audit tab's filters as the form sent them (empty: not filtered)."""

    actor: str = ""
    action: str = ""
    since: str = ""
    until: str = ""

    def params(self) -> dict[str, str]:
        """Return the filters that are set, to carry them into the next page's link."""
        given = {"actor": self.actor, "action": self.action}
        given |= {"from": self.since, "to": self.until}
        return {name: value for name, value in given.items() if value}

    def audit_filter(self, ctx: ConsoleContext) -> AuditFilter:
        """Return the filter, dates read as whole days in the workspace's time zone."""
        first, last = _day(self.since, "from"), _day(self.until, "to")
        if first and last and first > last:
            raise UnprocessableContent("The “from” date comes after the “to” date.")
        return AuditFilter(
            actor=self.actor or None,
            action=self.action or None,
            since=_midnight(ctx, first) if first else None,
            until=_midnight(ctx, last + timedelta(days=1)) if last else None,
        )


def audit_query(
    actor: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[str, Query(alias="from", max_length=10)] = "",
    until: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> AuditQuery:
    """Dependency: the audit tab's filters from the query string."""
    return AuditQuery(actor.strip(), action.strip(), since.strip(), until.strip())


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UnprocessableContent(f"Give the “{field}” date as YYYY-MM-DD.") from None


def _midnight(ctx: ConsoleContext, day: date) -> datetime:
    zone = zone_named(ctx.workspace.time_zone)
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


async def target_names(
    ctx: ConsoleContext, session: AsyncSession, events: Sequence[AuditEvent], staff: dict[str, str]
) -> dict[tuple[str, str], str]:
    """Name each record's target where Rapport knows it: a member, key, source, workspace."""
    kinds = {event.target_type for event in events}
    names = {("staff", staff_id): name for staff_id, name in staff.items()}
    names[("workspace", ctx.workspace.id)] = ctx.workspace.name
    if "api_key" in kinds and ctx.can(Scope.keys_read):
        keys = await api_keys.list(session, ctx.principal)
        names |= {("api_key", key.id): key.name for key in keys}
    if "source" in kinds and ctx.can(Scope.sources_read):
        found = await sources.list(session, ctx.principal)
        names |= {("source", source.id): source.name for source in found}
    return names
