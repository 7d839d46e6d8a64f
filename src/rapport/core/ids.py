"""Identifiers: time-ordered, unguessable, safe to show."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime

_TICKS = 4096  # each millisecond in 4,096 ticks: the 12 bits after the version
_last_tick = 0  # the last tick handed out in this process
_CLOCK_STEP = _TICKS * 1000  # a clock set back further than a second is followed
_ticking = threading.Lock()


def new_id() -> str:
    """Return a UUIDv7 as 32 hex characters (sortable by creation time)."""
    return new_ids(1)[0]


def new_ids(count: int) -> list[str]:
    """Return `count` UUIDv7s, in the order they sort, after every id this process made.

    RFC 9562's layout with its third method for order: 48 bits of milliseconds, version 7,
    12 bits of the millisecond's fraction, the variant, then 62 random bits (one urandom
    call for all). Each id takes a tick of its own, the clock's or, when the clock has not
    moved on (several ids in one tick, or a clock set back by up to a second), the one after
    the last: ids of one process sort in the order they were made, even within a
    millisecond. After a longer step back ids follow the clock again rather than run ahead
    of it for that long."""
    global _last_tick
    now = time.time_ns()
    tick = now // 1_000_000 * _TICKS + now % 1_000_000 * _TICKS // 1_000_000
    with _ticking:
        if _last_tick - _CLOCK_STEP < tick <= _last_tick:
            tick = _last_tick + 1  # same tick, or the clock stepped back a little
        _last_tick = tick + count - 1
    random = os.urandom(8 * count)
    ids = []
    for offset in range(count):
        at = tick + offset
        milliseconds, fraction = divmod(at, _TICKS)
        head = (milliseconds & ((1 << 48) - 1)) << 16 | 0x7 << 12 | fraction
        tail = int.from_bytes(random[8 * offset : 8 * offset + 8], "big") >> 2 | 0x2 << 62
        ids.append(f"{head:016x}{tail:016x}")
    return ids


def first_id_at(moment: datetime) -> str:
    """Return the smallest id made at or after `moment` (ids sort by creation time), so a
    range of ids is a range of creation times that the primary key serves."""
    milliseconds = int(moment.timestamp() * 1000) & ((1 << 48) - 1)
    return f"{milliseconds:012x}{'0' * 20}"
