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
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics.models import DayDigest
from rapport.core.clock import utcnow

# A day is digested once it ended this long ago (see the module's docstring); PostgreSQL's
# trigger looks only at writes stamped more than TRIGGER_AGE before the database's clock.
MARGIN = timedelta(hours=6)
TRIGGER_AGE = timedelta(hours=3)
# Digests reach back this far; older windows read their rows.
DAYS_KEPT = 400
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
    """Return what `pack` stored (the arrays are read-only views of the payload)."""
    (size,) = _HEADER.unpack_from(payload)
    header = json.loads(payload[_HEADER.size : _HEADER.size + size])
    offset = _HEADER.size + size
    arrays: dict[str, NDArray[np.generic]] = {}
    for name, dtype, length in header["arrays"]:
        if dtype not in _DTYPES:
            raise ValueError(f"a digest holds an array of an unknown type: {dtype}")
        arrays[name] = np.frombuffer(payload, dtype=np.dtype(dtype), count=length, offset=offset)
        offset += arrays[name].nbytes
    return Unpacked(arrays, header["names"])


@dataclass(frozen=True)
class Fingerprint:
    """What tells two readings of a day's rows apart: their count and greatest id."""

    rows: int
    last_id: str | None


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
    return {
        starts_at: unpack(payload)
        for starts_at, ends_at, payload in await session.execute(query)
        if (starts_at, ends_at) in wanted
    }


async def stored_days(
    session: AsyncSession, workspace_id: str, source: str, variant: str
) -> set[datetime]:
    """Return the starts of the days that have a digest of this variant."""
    query = select(DayDigest.starts_at).where(
        DayDigest.workspace_id == workspace_id,
        DayDigest.source == source,
        DayDigest.variant == variant,
    )
    return set((await session.execute(query)).scalars())


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
            DayDigest.ends_at <= utcnow() - timedelta(days=DAYS_KEPT + 2),
        )
    )


def lock_name(source: str) -> str:
    """Return the first key of the advisory lock on a source's digests (the workspace's id
    is the second): the trigger of migration 20261205_0031 spells it the same way."""
    return f"analytics_day_digests:{source}"


def closed_before(now: datetime) -> datetime:
    """Return the instant a day must have ended by to be digested."""
    return now - MARGIN
