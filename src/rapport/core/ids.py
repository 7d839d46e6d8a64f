"""Identifiers: time-ordered, unguessable, safe to show."""

from __future__ import annotations

import os
import time
from datetime import datetime


def new_id() -> str:
    """Return a UUIDv7 as 32 hex characters (sortable by creation time)."""
    return new_ids(1)[0]


def new_ids(count: int) -> list[str]:
    """Return `count` UUIDv7s of this millisecond (one clock read, one urandom call): 48 bits
    of milliseconds, version 7, the RFC 4122 variant, the rest random."""
    stamp = (time.time_ns() // 1_000_000 & ((1 << 48) - 1)) << 80 | 0x7 << 76 | 0x2 << 62
    random = os.urandom(10 * count)
    keep = ((1 << 80) - 1) & ~(0xF << 76) & ~(0x3 << 62)
    return [
        f"{stamp | int.from_bytes(random[start : start + 10], 'big') & keep:032x}"
        for start in range(0, 10 * count, 10)
    ]


def first_id_at(moment: datetime) -> str:
    """Return the smallest id made at or after `moment` (ids sort by creation time), so a
    range of ids is a range of creation times that the primary key serves."""
    milliseconds = int(moment.timestamp() * 1000) & ((1 << 48) - 1)
    return f"{milliseconds:012x}{'0' * 20}"
