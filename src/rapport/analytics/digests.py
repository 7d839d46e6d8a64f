"""Day digests: what a metric reads of one closed local day, stored once as columns.

A dashboard over a month of a busy shop reads some 160,000 metric events; turning those
rows into columns costs more than every figure computed from them. A day that ended a while
ago rarely changes, so a background job (`analytics.digest_days`) stores each closed day's
columns in `analytics_day_digests`, and a window reads its closed days from there and only
the rest (today, a day not digested yet) from the rows.

A digest is exactly its day's rows at the time it was stored, and stays so:
- database triggers (migration 20261205_0031) delete the digests covering an event whenever
  one is inserted, changed or deleted later, in the same transaction as that write;
- a digest is built from a snapshot, then stored only if the day's rows still have the
  fingerprint they had in it (their count and greatest id, ids being time-ordered), checked
  while holding the writer (SQLite) or a lock the PostgreSQL trigger also takes: a write
  between the snapshot and the store cannot slip through;
- a day is digested only once it ended `MARGIN` ago, so the live path's writes (stamped
  now) never fall in a digested day and PostgreSQL's trigger leaves them alone;
- `variant` names what else a digest depends on (the business calendar of its business
  seconds): a digest of another variant is never read, and is replaced.

A payload is a small JSON header followed by the arrays' bytes; it holds no pickled object.
"""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics.models import DayDigest
from rapport.analytics.windows import day_start, local_days
from rapport.core.clock import utcnow
from rapport.support.calendars import BusinessCalendar

_log = logging.getLogger(__name__)
# What every variant starts with: a digest of another layout (the arrays, the codes of kinds
# and channels, what a source selects) is never read.
FORMAT = "v1"
# A day is digested once it ended this long ago (see the module's docstring); PostgreSQL's
# trigger (migration 20261205_0031) looks only at writes stamped more than three hours, half
# of it, before the database's clock.
MARGIN = timedelta(hours=6)
# Digests reach back this far; older windows read their rows.
DAYS_KEPT = 400
# Days of a source digested by one job: read before the writer is taken, then checked and
# stored holding it 5-7 ms at the median on the full-size bench file (three a job held it
# 13-16 ms).
DAYS_PER_JOB = 1
_DTYPES = frozenset({"<i8", "<i4", "|i1", "<f8", "|b1"})
_HEADER = struct.Struct("<I")


@dataclass(frozen=True)
class Unpacked:
    arrays: dict[str, NDArray[np.generic]]
    names: dict[str, list[str]]


def pack(arrays: Mapping[str, NDArray[np.generic]], names: Mapping[str, Sequence[str]]) -> bytes:
    """Return arrays (little-endian numbers or booleans) and lists of names as one payload."""
    parts = [np.ascontiguousarray(array) for array in arrays.values()]
    header = {
        "arrays": [
            [name, array.dtype.str, len(array)] for name, array in zip(arrays, parts, strict=True)
        ],
        "names": {key: list(values) for key, values in names.items()},
    }
    encoded = json.dumps(header, separators=(",", ":")).encode()
    return b"".join([_HEADER.pack(len(encoded)), encoded, *(part.tobytes() for part in parts)])


def unpack(payload: bytes) -> Unpacked:
    """Return what `pack` stored (the arrays are read-only views of the payload). A payload
    that is not exactly that (cut short, lengths that do not add up, an unknown type)
    raises ValueError."""
    try:
        (size,) = _HEADER.unpack_from(payload)
        header = json.loads(payload[_HEADER.size : _HEADER.size + size])
        offset = _HEADER.size + size
        arrays: dict[str, NDArray[np.generic]] = {}
        for name, dtype, length in header["arrays"]:
            if dtype not in _DTYPES or not isinstance(length, int) or length < 0:
                raise ValueError(f"a digest holds an array of an unknown type: {dtype}")
            array = np.frombuffer(payload, dtype=np.dtype(dtype), count=length, offset=offset)
            arrays[str(name)] = array
            offset += array.nbytes
        names = {
            str(key): [str(value) for value in values] for key, values in header["names"].items()
        }
    except (struct.error, KeyError, TypeError, AttributeError, json.JSONDecodeError) as error:
        raise ValueError(f"a digest's payload is malformed: {error}") from error
    if offset != len(payload):
        raise ValueError("a digest's payload is longer than its arrays")
    return Unpacked(arrays, names)


@dataclass(frozen=True)
class Fingerprint:
    """What tells two readings of a day's rows apart: their count, and a mark that changes
    with any change the count misses (the greatest id of append-only rows, a hash of the
    values read otherwise)."""

    rows: int
    mark: str | None


Day = tuple[datetime, datetime]
T = TypeVar("T")


class DigestSource(Protocol):
    """What a metric source tells the digests: its name, what its digests depend on, when
    its first row was written, a day's digest from a snapshot, and its fingerprint now."""

    name: str

    def variant(self, calendar: BusinessCalendar) -> str: ...

    async def first_time(self, session: AsyncSession, workspace_id: str) -> datetime | None: ...

    async def build(
        self, session: AsyncSession, workspace_id: str, day: Day, calendar: BusinessCalendar
    ) -> tuple[bytes, Fingerprint]: ...

    async def fingerprint(
        self, session: AsyncSession, workspace_id: str, day: Day
    ) -> Fingerprint: ...


async def digest_days(
    session: AsyncSession,
    workspace_id: str,
    source: DigestSource,
    calendar: BusinessCalendar,
    now: datetime,
) -> int:
    """Store the digests of up to DAYS_PER_JOB closed local days that have none (oldest
    first, at most DAYS_KEPT back); return how many days are still missing."""
    first = await source.first_time(session, workspace_id)
    if first is None:
        return 0
    variant = source.variant(calendar)
    earliest = max(first, now - timedelta(days=DAYS_KEPT))
    due = local_days(day_start(earliest, calendar.time_zone), now - MARGIN, calendar.time_zone)
    stored = await stored_days(session, workspace_id, source.name, variant)
    missing = [day for day in due if day not in stored]
    built = [
        (day, *await source.build(session, workspace_id, day, calendar))
        for day in missing[:DAYS_PER_JOB]
    ]
    if built:
        await hold_writer(session, workspace_id, source.name)
        for day, payload, fingerprint in built:
            current = await source.fingerprint(session, workspace_id, day)
            await store(
                session, workspace_id, source.name, variant, day, payload, fingerprint, current
            )
    return len(missing) - len(built)


async def read_window(
    session: AsyncSession,
    workspace_id: str,
    source: str,
    variant: str,
    span: Day,
    time_zone: str,
    read_rows: Callable[[Day], Awaitable[T]],
    from_digest: Callable[[Unpacked], T],
) -> list[T]:
    """Return [start, end) in parts, oldest first: each local day wholly inside it that has
    a digest of this variant from the digest, the stretches between from their rows."""
    start, end = span
    days = local_days(start, end, time_zone)
    found = await load(session, workspace_id, source, variant, days)
    parts: list[T] = []
    read_from = start
    for begins, ends in days:
        digest = found.get(begins)
        if digest is None:
            continue
        try:
            part = from_digest(digest)
        except ValueError:  # not what its source stores: the day is read from its rows
            _log.warning("analytics: inconsistent %s digest of %s ignored", source, begins)
            continue
        if read_from < begins:
            parts.append(await read_rows((read_from, begins)))
        parts.append(part)
        read_from = ends
    if read_from < end or not parts:
        parts.append(await read_rows((read_from, end)))
    return parts


async def load(
    session: AsyncSession,
    workspace_id: str,
    source: str,
    variant: str,
    days: Sequence[tuple[datetime, datetime]],
) -> dict[datetime, Unpacked]:
    """Return the stored digests of these days (by start), of this variant."""
    if not days:
        return {}
    wanted = set(days)
    query = select(DayDigest.starts_at, DayDigest.ends_at, DayDigest.payload).where(
        DayDigest.workspace_id == workspace_id,
        DayDigest.source == source,
        DayDigest.variant == variant,
        DayDigest.starts_at >= days[0][0],
        DayDigest.starts_at <= days[-1][0],
    )
    found: dict[datetime, Unpacked] = {}
    for starts_at, ends_at, payload in await session.execute(query):
        if (starts_at, ends_at) in wanted:
            try:
                found[starts_at] = unpack(payload)
            except ValueError:
                _log.warning("analytics: unreadable %s digest of %s ignored", source, starts_at)
    return found


async def stored_days(
    session: AsyncSession, workspace_id: str, source: str, variant: str
) -> set[Day]:
    """Return the days (start, end) that have a digest of this variant."""
    query = select(DayDigest.starts_at, DayDigest.ends_at).where(
        DayDigest.workspace_id == workspace_id,
        DayDigest.source == source,
        DayDigest.variant == variant,
    )
    return {(starts_at, ends_at) for starts_at, ends_at in await session.execute(query)}


async def store(
    session: AsyncSession,
    workspace_id: str,
    source: str,
    variant: str,
    day: tuple[datetime, datetime],
    payload: bytes,
    fingerprint: Fingerprint,
    current: Fingerprint,
) -> None:
    """Store one day's digest in place of any digest overlapping it. Call it with the writer
    held (`hold_writer`), and `current` read after: the digest is stored only when the day's
    rows still match the snapshot it was built from (`fingerprint`)."""
    starts_at, ends_at = day
    await session.execute(
        delete(DayDigest).where(
            DayDigest.workspace_id == workspace_id,
            DayDigest.source == source,
            DayDigest.starts_at < ends_at,
            DayDigest.ends_at > starts_at,
        )
    )
    if current != fingerprint:
        return  # written to since the snapshot: the next run digests the day again
    session.add(
        DayDigest(
            workspace_id=workspace_id,
            source=source,
            variant=variant,
            starts_at=starts_at,
            ends_at=ends_at,
            rows=fingerprint.rows,
            payload=payload,
            built_at=utcnow(),
        )
    )
    await session.flush()


async def hold_writer(session: AsyncSession, workspace_id: str, source: str) -> None:
    """Become the writer that may store digests of the workspace's `source`. On PostgreSQL
    an advisory lock keyed like the one the invalidating trigger takes waits for every
    transaction that wrote into a past day, and holds off new ones, until this transaction
    ends. Then the digests past DAYS_KEPT are pruned: on SQLite that first write makes the
    unit of work the one writer."""
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:source), hashtext(:workspace))"),
            {"source": lock_name(source), "workspace": workspace_id},
        )
    await session.execute(
        delete(DayDigest).where(
            DayDigest.workspace_id == workspace_id,
            DayDigest.source == source,
            DayDigest.starts_at <= utcnow() - timedelta(days=DAYS_KEPT + 3),
        )
    )


def lock_name(source: str) -> str:
    """Return the first key of the advisory lock on a source's digests (the workspace's id
    is the second): the trigger of migration 20261205_0031 spells it the same way."""
    return f"analytics_day_digests:{source}"
