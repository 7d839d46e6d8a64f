"""`rapport metrics show`: every CX metric of a window, as a table or one JSON object;
`rapport metrics digest`: digest a workspace's closed days now (the worker does it every 15
minutes)."""

from __future__ import annotations

import json

import typer
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import func, select

from rapport.analytics import digests
from rapport.analytics.filters import read_channel, read_day
from rapport.analytics.models import DayDigest
from rapport.analytics.order_metrics import DEFAULT_INACTIVITY_DAYS
from rapport.analytics.schemas import MetricsSummary
from rapport.analytics.service import MetricsFilters, metrics
from rapport.analytics.tasks import DIGEST_SOURCES
from rapport.cli.common import out, run
from rapport.core.clock import utcnow
from rapport.core.db import Database, background_work
from rapport.identity.service import workspaces
from rapport.support.routing_calendar import calendars

app = typer.Typer(help="CX metrics (docs/metrics.md).", no_args_is_help=True)


@app.command()
def show(
    workspace: str = typer.Option(..., help="Workspace slug."),
    from_day: str = typer.Option(..., "--from", help="First day, YYYY-MM-DD (workspace zone)."),
    to_day: str = typer.Option(..., "--to", help="Day the window ends before, YYYY-MM-DD."),
    channel: str | None = typer.Option(None, help="Only this support channel (chat, email...)."),
    team: str | None = typer.Option(None, help="Only this support team (team id)."),
    agent: str | None = typer.Option(None, help="Only this agent (staff id)."),
    survey: str | None = typer.Option(None, help="Only responses to this survey (survey id)."),
    inactivity_days: int = typer.Option(
        DEFAULT_INACTIVITY_DAYS, help="Days after their last order a customer stays active."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Print every metric of the window [from, to): rates in percent, times in seconds,
    null where there is no data (the JSON is unrounded; the table shows two decimals)."""

    async def work(database: Database) -> MetricsSummary:
        # Read inside the run, so a bad option is reported as an error, not a traceback.
        filters = MetricsFilters(
            channel=read_channel(channel), team_id=team, staff_id=agent, survey_id=survey
        )
        first_day, end_day = read_day(from_day, "--from"), read_day(to_day, "--to")
        async with database.session() as session:
            workspace_id = (await workspaces.get_by_slug(session, workspace)).id
            return await metrics.summary(
                session, workspace_id, first_day=first_day, end_day=end_day,
                filters=filters, inactivity_days=inactivity_days,
            )  # fmt: skip

    figures = run(work).flat()
    if as_json:
        out.print(json.dumps(figures), markup=False, highlight=False)
        return
    table = Table("metric", "value", title=f"{workspace}: {from_day} to {to_day}")
    for key, value in figures.items():
        table.add_row(key, "-" if value is None else _cell(value))
    out.print(table)


@app.command()
def digest(workspace: str = typer.Option(..., help="Workspace slug.")) -> None:
    """Digest every closed day of the workspace's support metric events and orders now, a
    day per unit of work, as the worker's job does every 15 minutes (after an upgrade, or a
    big import of past orders); the last line is the number of digests the workspace has."""

    async def work(database: Database) -> int:
        async with database.session() as session:
            workspace_id = (await workspaces.get_by_slug(session, workspace)).id
        with background_work(), Progress(console=out) as progress:
            for source in DIGEST_SOURCES:
                task = progress.add_task(f"Digesting {source.name} days", total=None)
                done, left = 0, 1
                while left:
                    async with database.session() as session:
                        calendar = await calendars.load(session, workspace_id)
                        left = await digests.digest_days(
                            session, workspace_id, source, calendar, utcnow()
                        )
                    done += 1 if left else 0
                    progress.update(task, completed=done, total=done + left)
                progress.update(task, completed=max(done, 1), total=max(done, 1))  # all done
        async with database.session() as session:
            query = select(func.count()).where(DayDigest.workspace_id == workspace_id)
            return int((await session.execute(query)).scalar_one())

    stored = run(work)
    out.print(f"{stored} day digests", markup=False, highlight=False)


def _cell(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)
