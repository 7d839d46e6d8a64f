"""A window's support metric events as columns: one numpy array per attribute, one entry
per event, in the order the events were recorded (time, then id).

The support metrics select events by kind, time, channel, team and agent, and add up or
rank their seconds. A busy shop records about 160,000 such events a month; as columns,
each selection is one array operation instead of a Python loop over every event for every
figure, and a day, a channel or an agent is a view of the same arrays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rapport.support.enums import Channel, MetricKind

KINDS = tuple(MetricKind)
KIND_CODES = {str(kind): code for code, kind in enumerate(KINDS)}
CHANNELS = tuple(Channel)
CHANNEL_CODES = {str(channel): code for code, channel in enumerate(CHANNELS)}
# The code of an absent team or staff member.
NOBODY = -1

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """Return an aware instant as whole microseconds since the Unix epoch (exact: datetimes
    carry microseconds)."""
    return (moment - _EPOCH) // _MICROSECOND


def code_of(kind: MetricKind) -> int:
    """Return the code a kind has in `FactColumns.kind`."""
    return KIND_CODES[str(kind)]


@dataclass(frozen=True)
class Names:
    """What the integer codes of conversations, teams and staff members stand for."""

    conversations: Sequence[str]
    teams: Sequence[str]
    staff: Sequence[str]


@dataclass(frozen=True)
class FactColumns:
    """Metric events as parallel arrays (see the module's docstring)."""

    at: NDArray[np.int64]  # when it was recorded, `micros`; ascending
    kind: NDArray[np.int8]  # `code_of` its kind
    conversation: NDArray[np.int32]  # index into names.conversations
    seconds: NDArray[np.float64]  # the measured span, NaN when none was measured
    business: NDArray[np.float64]  # the span's business seconds, 0 when none was measured
    channel: NDArray[np.int8]  # index into CHANNELS
    team: NDArray[np.int32]  # index into names.teams, NOBODY for none
    staff: NDArray[np.int32]  # index into names.staff, NOBODY for none
    # A resolution with a known count of at most one agent reply, not escalated (the part of
    # first-level resolution that does not depend on later reopens).
    quick: NDArray[np.bool_]
    names: Names

    def __len__(self) -> int:
        return len(self.at)

    def between(self, start: datetime, end: datetime) -> FactColumns:
        """Return the events recorded in [start, end) (views of these arrays)."""
        low, high = np.searchsorted(self.at, [micros(start), micros(end)], side="left")
        return self._take(slice(int(low), int(high)))

    def where(self, mask: NDArray[np.bool_]) -> FactColumns:
        """Return the events for which `mask` is true, in order."""
        return self._take(mask)

    def scoped(
        self, channel: Channel | None, team_ids: Sequence[str] | None, staff_id: str | None
    ) -> FactColumns:
        """Return the events of this channel, these teams and this staff member (None: any)."""
        keep = np.ones(len(self), dtype=np.bool_)
        if channel is not None:
            keep &= self.channel == CHANNEL_CODES[str(channel)]
        if team_ids is not None:
            teams = [code for code, name in enumerate(self.names.teams) if name in team_ids]
            keep &= np.isin(self.team, teams)
        if staff_id is not None:
            keep &= self.staff == _code(self.names.staff, staff_id)
        return self if keep.all() else self.where(keep)

    def arrays(self) -> dict[str, NDArray[Any]]:
        """Return the columns by name (what a digest stores, with `names`)."""
        return {name: getattr(self, name) for name in _ARRAYS}

    @classmethod
    def from_arrays(cls, arrays: dict[str, NDArray[Any]], names: Names) -> FactColumns:
        """Return the columns `arrays` gave."""
        return cls(**{name: arrays[name] for name in _ARRAYS}, names=names)

    @classmethod
    def joined(cls, parts: Sequence[FactColumns]) -> FactColumns:
        """Return the events of `parts` (each later than the one before) as one, their
        conversations, teams and staff coded anew."""
        if len(parts) == 1:
            return parts[0]
        coders = {"conversation": Coder(), "team": Coder(), "staff": Coder()}
        recoded: dict[str, list[NDArray[Any]]] = {name: [] for name in _ARRAYS}
        for part in parts:
            named = {
                "conversation": part.names.conversations,
                "team": part.names.teams,
                "staff": part.names.staff,
            }
            for name in _ARRAYS:
                column = getattr(part, name)
                if name in coders:
                    column = coders[name].recode(named[name], column)
                recoded[name].append(column)
        arrays = {name: np.concatenate(columns) for name, columns in recoded.items()}
        names = Names(*(coder.names() for coder in coders.values()))
        return cls.from_arrays(arrays, names)

    def check(self) -> None:
        """Refuse (ValueError) columns of different lengths or codes that name nothing."""
        size = len(self.at)
        if any(len(getattr(self, name)) != size for name in _ARRAYS):
            raise ValueError("the columns differ in length")
        bounds = {
            "kind": (0, len(KINDS)),
            "channel": (0, len(CHANNELS)),
            "conversation": (0, len(self.names.conversations)),
            "team": (NOBODY, len(self.names.teams)),
            "staff": (NOBODY, len(self.names.staff)),
        }
        for name, (low, high) in bounds.items():
            codes = getattr(self, name)
            if size and (int(codes.min()) < low or int(codes.max()) >= high):
                raise ValueError(f"a {name} code names nothing")

    def _take(self, index: Any) -> FactColumns:
        return FactColumns.from_arrays(
            {name: getattr(self, name)[index] for name in _ARRAYS}, self.names
        )


_ARRAYS = (
    "at", "kind", "conversation", "seconds", "business", "channel", "team", "staff", "quick",
)  # fmt: skip


def _code(names: Sequence[str], name: str) -> int:
    """Return the code of `name` (one below NOBODY, which no event has, when it is absent)."""
    try:
        return names.index(name)
    except ValueError:
        return NOBODY - 1


class Coder:
    """Gives each distinct string the next integer code, in order of appearance."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def encode(self, values: Sequence[str | None]) -> NDArray[np.int32]:
        """Return the codes of `values` (None: NOBODY)."""
        codes = self.codes
        found = [
            NOBODY if value is None else codes.setdefault(value, len(codes)) for value in values
        ]
        return np.array(found, dtype=np.int32)

    def recode(self, names: Sequence[str], codes: NDArray[Any]) -> NDArray[np.int32]:
        """Return `codes`, indices into `names`, as this coder's codes (NOBODY stays)."""
        mapping = np.append(self.encode(names), np.int32(NOBODY))  # NOBODY (-1): the last
        recoded: NDArray[np.int32] = mapping[codes].astype(np.int32, copy=False)
        return recoded

    def names(self) -> list[str]:
        """Return the strings, indexed by their codes."""
        return list(self.codes)
