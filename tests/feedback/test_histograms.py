"""Score histograms over a window, whole and per local day across a DST change."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

import pytest

from rapport.core.db import Database
from rapport.feedback import service
from rapport.feedback.errors import UnknownSurveyKind, UnknownTimeZone
from rapport.feedback.repository import ResponseRepository
from rapport.identity.models import Workspace
from tests.fixtures.identity import make_workspace

START = datetime(2026, 3, 7, 5, tzinfo=UTC)  # 2026-03-07 00:00 in New York (EST)
END = datetime(2026, 3, 10, 4, tzinfo=UTC)  # 2026-03-10 00:00 in New York (EDT)
ZONE = "America/New_York"


def _row(at: str, score: int, kind: str = "nps", **extra: Any) -> dict[str, Any]:
    key = hashlib.sha256(f"{kind}{at}{score}{extra}".encode()).hexdigest()
    return {
        "kind": kind,
        "score": score,
        "answered_at": datetime.fromisoformat(at),
        "origin": "import",
        "dedupe_key": key,
        "channel": extra.get("channel", "chat"),
        "team_id": extra.get("team_id"),
    }


ROWS = [
    _row("2026-03-07T04:59:59+00:00", 1),  # before the window
    _row("2026-03-07T05:00:00+00:00", 10),  # 03-07 00:00 local
    _row("2026-03-08T04:59:00+00:00", 9),  # 03-07 23:59 local
    _row("2026-03-08T05:00:00+00:00", 3, channel="email"),  # 03-08 00:00 local (EST)
    _row("2026-03-09T03:59:00+00:00", 3),  # 03-08 23:59 local (EDT since 02:00)
    _row("2026-03-09T04:00:00+00:00", 7, team_id="team-a"),  # 03-09 00:00 local
    _row("2026-03-10T03:59:59+00:00", 0),  # 03-09 23:59:59 local
    _row("2026-03-10T04:00:00+00:00", 10),  # the window's end: outside
    _row("2026-03-08T12:00:00+00:00", 5, kind="csat"),
]


@pytest.fixture
async def workspace(database: Database) -> Workspace:
    """A workspace holding ROWS, and another holding one NPS answer inside the window."""
    workspace = await make_workspace(database)
    other = await make_workspace(database)
    async with database.session() as session:
        await ResponseRepository(session, workspace.id).insert_new([dict(row) for row in ROWS])
        await ResponseRepository(session, other.id).insert_new([dict(ROWS[2])])
    return workspace


async def test_histogram_counts_scores_in_the_window(
    database: Database, workspace: Workspace
) -> None:
    async with database.session() as session:
        found = await service.score_histogram(
            session, workspace.id, kind="nps", start=START, end=END
        )
    assert found == {10: 1, 9: 1, 3: 2, 7: 1, 0: 1}


async def test_histogram_filters_by_channel_and_team(
    database: Database, workspace: Workspace
) -> None:
    async with database.session() as session:
        by_channel = await service.score_histogram(
            session, workspace.id, kind="nps", start=START, end=END, channel="email"
        )
        by_team = await service.score_histogram(
            session, workspace.id, kind="nps", start=START, end=END, team_id="team-a"
        )
    assert (by_channel, by_team) == ({3: 1}, {7: 1})


async def test_daily_histograms_cut_days_in_the_workspace_zone_across_dst(
    database: Database, workspace: Workspace
) -> None:
    async with database.session() as session:
        found = await service.daily_score_histograms(
            session, workspace.id, kind="nps", start=START, end=END, time_zone=ZONE
        )
    assert found == {
        date(2026, 3, 7): {9: 1, 10: 1},
        date(2026, 3, 8): {3: 2},
        date(2026, 3, 9): {0: 1, 7: 1},
    }


async def test_daily_histograms_in_a_half_hour_zone(
    database: Database, workspace: Workspace
) -> None:
    async with database.session() as session:
        found = await service.daily_score_histograms(
            session,
            workspace.id,
            kind="nps",
            start=datetime(2026, 3, 7, 18, 30, tzinfo=UTC),  # 03-08 00:00 in Kolkata
            end=datetime(2026, 3, 8, 18, 30, tzinfo=UTC),
            time_zone="Asia/Kolkata",
        )
    # 03-08 04:59 UTC and 05:00 UTC are 10:29 and 10:30 on 03-08 in Kolkata.
    assert found == {date(2026, 3, 8): {9: 1, 3: 1}}


async def test_empty_window_has_no_scores(database: Database, workspace: Workspace) -> None:
    async with database.session() as session:
        whole = await service.score_histogram(
            session, workspace.id, kind="ces", start=START, end=END
        )
        daily = await service.daily_score_histograms(
            session, workspace.id, kind="nps", start=END, end=END, time_zone=ZONE
        )
    assert (whole, daily) == ({}, {})


async def test_unknown_kind_and_zone_are_refused(database: Database, workspace: Workspace) -> None:
    async with database.session() as session:
        with pytest.raises(UnknownSurveyKind):
            await service.score_histogram(session, workspace.id, kind="x", start=START, end=END)
        with pytest.raises(UnknownTimeZone):
            await service.daily_score_histograms(
                session, workspace.id, kind="nps", start=START, end=END, time_zone="Mars/Base"
            )


async def test_grouped_histograms_equal_one_histogram_per_group(
    database: Database, workspace: Workspace
) -> None:
    async with database.session() as session:
        by_channel = await service.grouped_score_histograms(
            session, workspace.id, kind="nps", start=START, end=END, by="channel"
        )
        by_team = await service.grouped_score_histograms(
            session, workspace.id, kind="nps", start=START, end=END, by="team"
        )
        within = await service.grouped_score_histograms(
            session, workspace.id, kind="nps", start=START, end=END, by="channel",
            team_ids=("team-a",),
        )  # fmt: skip
        nowhere = await service.grouped_score_histograms(
            session, workspace.id, kind="nps", start=START, end=END, by="team", team_ids=()
        )
        per_group = {
            channel: await service.score_histogram(
                session, workspace.id, kind="nps", start=START, end=END, channel=channel
            )
            for channel in ("chat", "email")
        }
    assert by_channel == per_group == {"chat": {10: 1, 9: 1, 3: 1, 7: 1, 0: 1}, "email": {3: 1}}
    # Answers without a team belong to no team's group.
    assert (by_team, within, nowhere) == ({"team-a": {7: 1}}, {"chat": {7: 1}}, {})
    with pytest.raises(ValueError):
        await service.grouped_score_histograms(
            session, workspace.id, kind="nps", start=START, end=END, by="survey"
        )
