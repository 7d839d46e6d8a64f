"""The console's CX dashboard: every chart and its CSV hold the metrics service's numbers,
agents see their own figures, other workspaces nothing, and bad windows are a 4xx page."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import date, datetime
from typing import Any

import httpx
import pytest

from rapport.analytics.service import MetricsFilters, metrics
from rapport.core.db import Database
from rapport.feedback.repository import ResponseRepository
from rapport.identity.enums import Role
from rapport.identity.models import Workspace
from rapport.support.teams import teams
from rapport.web.console.dashboard import CHART_NAMES
from tests.fixtures.identity import StaffAccount, make_staff, make_workspace
from tests.fixtures.metrics import play_desk_day
from tests.web.console import sign_in

WINDOW = "from=2026-03-02&to=2026-03-03"
DAY, NEXT = date(2026, 3, 2), date(2026, 3, 3)


def _answer(score: int, kind: str = "nps", at: str = "2026-03-02T15:00:00+00:00") -> dict[str, Any]:
    return {
        "kind": kind,
        "score": score,
        "answered_at": datetime.fromisoformat(at),
        "origin": "import",
        "dedupe_key": hashlib.sha256(f"{kind}{score}{at}".encode()).hexdigest(),
        "channel": "chat",
    }


async def _desk(database: Database) -> tuple[Workspace, str, str]:
    """The metrics tests' desk day plus NPS answers 10, 9, 3 and CSAT 5, 2 that day, and an
    NPS 0 the day before (the previous period)."""
    desk, ana, ben = await play_desk_day(database)
    rows = [_answer(10), _answer(9), _answer(3), _answer(5, "csat"), _answer(2, "csat")]
    rows.append(_answer(0, at="2026-03-01T12:00:00+00:00"))
    async with database.session() as session:
        await ResponseRepository(session, desk.workspace_id).insert_new(rows)
        workspace = await session.get(Workspace, desk.workspace_id)
    assert workspace is not None
    return workspace, ana, ben


async def _signed_in(
    client: httpx.AsyncClient, database: Database, workspace: Workspace, role: Role
) -> StaffAccount:
    account = await make_staff(database, workspace, role)
    await sign_in(client, account.email, account.password)
    return account


def _csv(response: httpx.Response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.text)))


def _table(html: str, chart: str) -> list[list[str]]:
    """Return the data-value cells of a chart's hidden table, row by row."""
    figure = html.split(f'data-chart="{chart}"', 1)[1].split("</figure>", 1)[0]
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', figure)
    return [[label, *re.findall(r'data-value="([^"]*)"', cells)] for label, cells in rows]


async def test_the_page_draws_every_chart_from_the_services_numbers(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, _, _ = await _desk(database)
    await _signed_in(client, database, workspace, Role.owner)
    page = await client.get(f"/console/metrics?{WINDOW}")
    assert page.status_code == 200
    drawn = re.findall(r'<figure class="card chart" data-chart="([a-z-]+)"', page.text)
    assert drawn == [name for name in CHART_NAMES if name != "summary"]
    assert page.text.count('<script src="/static/vendor/chart.umd.min.js" defer>') == 1
    assert _table(page.text, "volume") == [["2026-03-02", "6"]]
    assert _table(page.text, "first-response") == [["2026-03-02", "600.0"]]
    assert _table(page.text, "by-channel") == [["api", "3", "3"], ["chat", "3", "2"]]
    nps = _table(page.text, "nps-distribution")
    assert [row[1] for row in nps] == ["0", "0", "0", "1", "0", "0", "0", "0", "0", "1", "1"]
    tile = re.search(r'data-tile="nps" data-value="([^"]*)"', page.text)
    assert tile is not None and tile[1] == repr(100 * 2 / 3 - 100 / 3)


async def test_the_home_of_the_console_does_not_load_the_chart_library(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _signed_in(client, database, await make_workspace(database), Role.owner)
    assert "chart.umd.min.js" not in (await client.get("/console")).text


async def test_each_csv_holds_the_numbers_of_its_service_call(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, _, _ = await _desk(database)
    await _signed_in(client, database, workspace, Role.owner)
    async with database.session() as session:
        series = await metrics.series(session, workspace.id, first_day=DAY, end_day=NEXT)
        current = await metrics.summary(session, workspace.id, first_day=DAY, end_day=NEXT)
        before = await metrics.summary(
            session, workspace.id, first_day=date(2026, 3, 1), end_day=DAY
        )
    point = series.points[0].metrics
    volume = await client.get(f"/console/metrics/charts/volume?format=csv&{WINDOW}")
    assert volume.headers["content-type"] == "text/csv; charset=utf-8"
    assert volume.headers["content-disposition"] == (
        'attachment; filename="rapport-volume-2026-03-02-2026-03-03.csv"'
    )
    assert _csv(volume) == [["day", "Conversations"], ["2026-03-02", str(point.volume)]]
    csat = await client.get(f"/console/metrics/charts/csat?format=csv&{WINDOW}")
    assert _csv(csat) == [["day", "CSAT"], ["2026-03-02", "50.0"]]
    nps = await client.get(f"/console/metrics/charts/nps?{WINDOW}")
    assert _csv(nps)[1] == ["2026-03-02", repr(point.nps)]
    by_channel = await client.get(f"/console/metrics/charts/by-channel?format=csv&{WINDOW}")
    assert _csv(by_channel) == [
        ["channel", "Conversations", "Resolutions"],
        ["api", "3", "3"],
        ["chat", "3", "2"],
    ]
    summary = _csv(await client.get(f"/console/metrics/charts/summary?{WINDOW}"))
    rows = {row[0]: row[1:] for row in summary[1:]}
    assert summary[0] == ["metric", "current", "previous", "change"]
    assert rows["nps"] == [repr(current.nps), "-100.0", repr(current.nps + 100.0)]
    assert rows["csat"] == ["50.0", "", ""]
    assert rows["first_response_seconds_p50"] == [repr(current.first_response_seconds_p50), "", ""]
    assert before.nps == -100.0


async def test_the_page_and_its_csv_agree_for_every_chart(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, _, _ = await _desk(database)
    await _signed_in(client, database, workspace, Role.supervisor)
    page = (await client.get(f"/console/metrics?{WINDOW}")).text
    for name in CHART_NAMES[:-1]:
        exported = _csv(await client.get(f"/console/metrics/charts/{name}?{WINDOW}"))
        assert exported[1:] == _table(page, name), name


async def test_an_agent_sees_only_their_own_figures(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, ana, ben = await _desk(database)
    agent = await _signed_in(client, database, workspace, Role.agent)
    by_agent = await client.get(f"/console/metrics/charts/by-agent?{WINDOW}")
    # This agent did nothing that day: none of ana's or ben's work shows.
    assert _csv(by_agent) == [["agent", "Conversations", "Resolutions"]]
    summary = {
        row[0]: row[1]
        for row in _csv(await client.get(f"/console/metrics/charts/summary?{WINDOW}"))
    }
    assert summary["first_response_seconds_p50"] == ""
    page = (await client.get(f"/console/metrics?{WINDOW}")).text
    assert 'name="agent"' not in page
    assert "Your own figures." in page
    other = await client.get(f"/console/metrics/charts/volume?{WINDOW}&agent={ben}")
    assert other.status_code == 403
    own = await client.get(f"/console/metrics/charts/volume?{WINDOW}&agent={agent.user.id}")
    assert _csv(own) == [["day", "Conversations"], ["2026-03-02", "0"]]
    assert ana != agent.user.id


async def test_a_supervisor_filters_by_agent(client: httpx.AsyncClient, database: Database) -> None:
    workspace, ana, _ = await _desk(database)
    await _signed_in(client, database, workspace, Role.supervisor)
    async with database.session() as session:
        expected = await metrics.summary(
            session, workspace.id, first_day=DAY, end_day=NEXT, filters=MetricsFilters(staff_id=ana)
        )
    exported = await client.get(f"/console/metrics/charts/first-response?{WINDOW}&agent={ana}")
    assert _csv(exported)[1] == ["2026-03-02", repr(expected.first_response_seconds_p50)]


async def test_another_workspace_sees_none_of_these_figures(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _desk(database)
    await _signed_in(client, database, await make_workspace(database), Role.owner)
    volume = await client.get(f"/console/metrics/charts/volume?{WINDOW}")
    assert _csv(volume) == [["day", "Conversations"], ["2026-03-02", "0"]]
    by_channel = await client.get(f"/console/metrics/charts/by-channel?{WINDOW}")
    assert _csv(by_channel) == [["channel", "Conversations", "Resolutions"]]


async def test_anonymous_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/console/metrics", "/console/metrics/charts/volume", "/console/metrics/live"):
        response = await client.get(path)
        assert (response.status_code, response.headers["location"].split("?")[0]) == (
            303,
            "/console/sign-in",
        )


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("from=2026-03-05&to=2026-03-01", 422),
        ("from=2026-13-01&to=2026-14-01", 422),
        ("from=2020-01-01&to=2026-01-01", 422),
        ("channel=fax", 422),
        ("team=nope", 422),
    ],
)
async def test_bad_windows_and_filters_are_a_4xx_page(
    client: httpx.AsyncClient, database: Database, query: str, status: int
) -> None:
    await _signed_in(client, database, await make_workspace(database), Role.owner)
    for path in ("/console/metrics", "/console/metrics/charts/volume"):
        assert (await client.get(f"{path}?{query}")).status_code == status


async def test_an_unknown_chart_or_format_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _signed_in(client, database, await make_workspace(database), Role.owner)
    assert (await client.get("/console/metrics/charts/pie")).status_code == 422
    assert (await client.get("/console/metrics/charts/volume?format=xlsx")).status_code == 422


async def test_the_preset_windows_end_today(client: httpx.AsyncClient, database: Database) -> None:
    await _signed_in(client, database, await make_workspace(database), Role.owner)
    exported = await client.get("/console/metrics/charts/volume?days=7")
    assert len(_csv(exported)) == 8
    assert len(_csv(await client.get("/console/metrics/charts/volume"))) == 31


async def test_the_live_tile_counts_open_and_unassigned_conversations(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, _, _ = await _desk(database)
    await _signed_in(client, database, workspace, Role.owner)
    tile = (await client.get("/console/metrics/live")).text
    found = dict(re.findall(r'<dd data-live="([a-z]+)">(.*?)</dd>', tile))
    # u is the day's only conversation still open, and nobody has it; one of us is online.
    assert (found["open"], found["unassigned"], found["online"]) == ("1", "1", "1")
    assert 'hx-trigger="every 30s"' in tile


async def test_a_team_limited_supervisor_sees_only_their_teams(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, _, _ = await _desk(database)
    supervisor = await _signed_in(client, database, workspace, Role.supervisor)
    async with database.session() as session:
        returns = await teams.create(session, workspace.id, "Returns")
        await teams.create(session, workspace.id, "Billing")
        await teams.add_member(session, workspace.id, returns.id, supervisor.user.id)
        await teams.limit_agent(session, workspace.id, supervisor.user.id, True)
    # Every conversation of the day is in no team: none of it shows.
    volume = await client.get(f"/console/metrics/charts/volume?{WINDOW}")
    assert _csv(volume) == [["day", "Conversations"], ["2026-03-02", "0"]]
    page = (await client.get(f"/console/metrics?{WINDOW}")).text
    team_select = page.split('name="team"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r"<option value=\"([0-9a-f]*)\"", team_select) == ["", returns.id]
    assert "Your teams' figures." in page
