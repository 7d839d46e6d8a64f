"""Score histograms over a window, whole or per local day: what the CX metrics read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.feedback.enums import SurveyKind
from rapport.feedback.errors import UnknownSurveyKind, UnknownTimeZone
from rapport.feedback.repository import ResponseFilters, ResponseRepository
from rapport.feedback.windows import offset_stretches


def _checked_kind(kind: str) -> str:
    if kind not in SurveyKind.__members__.values():
        raise UnknownSurveyKind(
            f"Unknown survey kind {kind!r}: one of nps, csat, ces, rating, custom."
        )
    return str(kind)


def _zone(time_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise UnknownTimeZone(f"Unknown time zone {time_zone!r}.") from error


async def score_histogram(
    session: AsyncSession,
    workspace_id: str,
    *,
    kind: str,
    start: datetime,
    end: datetime,
    channel: str | None = None,
    team_id: str | None = None,
    staff_id: str | None = None,
    survey_id: str | None = None,
) -> dict[int, int]:
    """Count the scores of one kind answered in [start, end), score -> count."""
    filters = ResponseFilters(channel, team_id, staff_id, survey_id)
    repository = ResponseRepository(session, workspace_id)
    return await repository.histogram(_checked_kind(kind), start, end, filters)


async def grouped_score_histograms(
    session: AsyncSession,
    workspace_id: str,
    *,
    kind: str,
    start: datetime,
    end: datetime,
    by: str,
    channel: str | None = None,
    team_ids: Sequence[str] | None = None,
    staff_id: str | None = None,
    survey_id: str | None = None,
) -> dict[str, dict[int, int]]:
    """Count the scores of one kind answered in [start, end) per channel, team or agent
    (`by`: "channel", "team" or "agent") in one statement: group -> score -> count. Each
    group equals `score_histogram` narrowed to it; `team_ids` keeps these teams only."""
    if by not in ("channel", "team", "agent"):
        raise ValueError(f"Unknown grouping {by!r}: one of channel, team, agent.")
    filters = ResponseFilters(channel, None, staff_id, survey_id)
    rows = await ResponseRepository(session, workspace_id).grouped_histograms(
        _checked_kind(kind), start, end, filters, by, team_ids
    )
    groups: dict[str, dict[int, int]] = {}
    for group, score, count in rows:
        groups.setdefault(group, {})[score] = count
    return groups


async def daily_score_histograms(
    session: AsyncSession,
    workspace_id: str,
    *,
    kind: str,
    start: datetime,
    end: datetime,
    time_zone: str,
    channel: str | None = None,
    team_id: str | None = None,
    staff_id: str | None = None,
    survey_id: str | None = None,
) -> dict[date, dict[int, int]]:
    """Count the scores of one kind answered in [start, end) per local day in `time_zone`:
    day -> score -> count (days without answers are absent)."""
    filters = ResponseFilters(channel, team_id, staff_id, survey_id)
    stretches = offset_stretches(start, end, _zone(time_zone)) if start < end else []
    if not stretches:
        return {}
    rows = await ResponseRepository(session, workspace_id).daily_histograms(
        _checked_kind(kind), start, end, filters, time_zone=time_zone, stretches=stretches
    )
    days: dict[date, dict[int, int]] = {}
    for day, score, count in sorted(rows):
        days.setdefault(day, {})[score] = days.get(day, {}).get(score, 0) + count
    return days
