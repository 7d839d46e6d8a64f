"""`rapport metrics show`: every CX metric of a window, as a table or one JSON object."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from rapport.analytics.filters import read_channel, read_day
from rapport.analytics.order_metrics import DEFAULT_INACTIVITY_DAYS
from rapport.analytics.schemas import MetricsSummary
from rapport.analytics.service import MetricsFilters, metrics
from rapport.cli.common import out, run
from rapport.core.db import Database
from rapport.identity.service import workspaces

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


def _cell(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)
