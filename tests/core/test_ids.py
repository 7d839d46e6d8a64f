"""Ids: UUIDv7 with random bits, in the order a process made them, even within a
millisecond, and never before the clock's own millisecond."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import pytest

from rapport.core import ids as ids_module
from rapport.core.ids import first_id_at, new_id, new_ids


def test_ids_are_uuid7_with_62_random_bits() -> None:
    made = [new_id() for _ in range(2000)]
    assert len(set(made)) == len(made)
    for value in made[:50]:
        parsed = uuid.UUID(value)
        assert len(value) == 32
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
    tails = {int(value[16:], 16) & ((1 << 62) - 1) for value in made}
    assert len(tails) == len(made)  # the random part is not a counter


def test_ids_sort_in_the_order_they_were_made_within_a_millisecond() -> None:
    made = [new_id() for _ in range(20_000)]  # far more than one a millisecond
    milliseconds = {value[:12] for value in made}
    assert len(milliseconds) < len(made)  # several ids did share a millisecond
    assert made == sorted(made)
    batch = new_ids(5000)
    assert batch == sorted(batch)
    assert made[-1] < batch[0] < new_id()


def test_a_clock_set_back_a_little_does_not_reorder_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    before = new_id()
    real = time.time_ns
    monkeypatch.setattr(ids_module.time, "time_ns", lambda: real() - 300_000_000)
    after = new_ids(3)
    monkeypatch.undo()
    assert [before, *after] == sorted([before, *after])


def test_after_a_long_step_back_ids_follow_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    before = new_id()
    real = time.time_ns
    monkeypatch.setattr(ids_module.time, "time_ns", lambda: real() - 60 * 1_000_000_000)
    after = [new_id() for _ in range(1000)]
    monkeypatch.undo()
    assert after[0] < before  # not a minute ahead of the clock
    assert after == sorted(after)  # and in order again from there
    assert after[-1] < new_id()  # the clock put right: ids move on from the clock


def test_ids_from_many_threads_are_distinct_and_each_threads_are_ordered() -> None:
    made: dict[int, list[str]] = {}

    def make(number: int) -> None:
        made[number] = [new_id() for _ in range(2000)]

    threads = [threading.Thread(target=make, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [value for values in made.values() for value in values]
    assert len(set(every)) == 8000
    assert all(values == sorted(values) for values in made.values())


def test_an_id_made_after_a_moment_is_not_before_its_first_id() -> None:
    moment = datetime.now(UTC)
    assert first_id_at(moment) <= new_id()
    later = datetime.fromtimestamp(time.time() + 5, UTC)
    assert new_id() < first_id_at(later)
