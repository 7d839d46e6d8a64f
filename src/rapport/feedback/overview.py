"""What the console's surveys list and responses page read: each survey's response count
and recent score, and the filters of one survey's responses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rapport.feedback.text import TOPICS

SENTIMENTS = ("positive", "neutral", "negative")
RECENT_DAYS = 30


@dataclass(frozen=True)
class ResponseQuery:
    """Which responses of one survey to list (None: any); the window is [start, end).

    `within_team_ids` limits them to what a staff member limited to their teams may see (as
    with conversations: their teams' responses and those about their own conversations,
    `staff_id`); None: every team."""

    min_score: int | None = None
    max_score: int | None = None
    channel: str | None = None
    sentiment: str | None = None
    topic: str | None = None
    with_comment: bool = False
    start: datetime | None = None
    end: datetime | None = None
    within_team_ids: tuple[str, ...] | None = None
    staff_id: str | None = None

    def __post_init__(self) -> None:
        if self.sentiment is not None and self.sentiment not in SENTIMENTS:
            raise ValueError(f"sentiment is one of {', '.join(SENTIMENTS)}")
        if self.topic is not None and self.topic not in TOPICS:
            raise ValueError(f"topic is one of {', '.join(TOPICS)}")


@dataclass(frozen=True)
class SurveySummary:
    """A survey's responses: how many in all, and the scores of the last RECENT_DAYS days."""

    responses: int = 0
    recent: dict[int, int] = field(default_factory=dict)

    @property
    def recent_count(self) -> int:
        """Return how many scored responses the recent window holds."""
        return sum(self.recent.values())

    def score(self, kind: str) -> str | None:
        """Return the recent score as the kind's metric: NPS (promoters - detractors, in
        points), CSAT (% of 4-5), CES and ratings (the mean); None without a scored answer."""
        count = self.recent_count
        if not count:
            return None
        if kind == "nps":
            promoters = sum(n for score, n in self.recent.items() if score >= 9)
            detractors = sum(n for score, n in self.recent.items() if score <= 6)
            return f"NPS {round((promoters - detractors) * 100 / count):+d}"
        if kind == "csat":
            satisfied = sum(n for score, n in self.recent.items() if score >= 4)
            return f"CSAT {round(satisfied * 100 / count)}%"
        mean = sum(score * n for score, n in self.recent.items()) / count
        if kind == "ces":
            return f"CES {mean:.1f}"
        return f"Mean {mean:.1f}"
