"""The event row, defined once: its columns, how a call becomes one, how times are bound, and
the job that processes stored rows. Ingestion builds rows, the repository inserts them,
processing reads them back; none of them needs the others' code for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rapport.core.clock import as_utc
from rapport.core.crypto import keyring
from rapport.core.ids import new_ids
from rapport.events.sealed import seal_payloads
from rapport.events.wire import Call

# Who sent a call, first: ingestion prepares the other columns before it knows the sender.
SENDER_COLUMNS = ("workspace_id", "source_id", "trusted")
EVENT_COLUMNS = (
    *SENDER_COLUMNS, "id", "created_at", "message_id", "type", "name", "user_index",
    "anonymous_index", "channel", "timestamp", "received_at", "sent_at", "original_timestamp",
    "payload", "lookup_key",
)  # fmt: skip
# The job that processes stored rows, with the ids of at most PROCESS_JOB_CALLS of them: a
# group commit's rows of one workspace, in order, so many small requests share one job (a
# job's fixed cost, about 4.7 ms of CPU, is most of what a request of a few calls costs).
PROCESS_JOB = "events.process_batch"
PROCESS_JOB_CALLS = 500

TimeEncoder = Callable[[datetime | None], Any]


def _sqlite_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = as_utc(moment)
    return moment.isoformat(" ", "microseconds")[:26]  # SQLAlchemy's SQLite text, no offset


def encode_time_for(dialect: str) -> TimeEncoder:
    """Return how a driver takes a UTC time: as is (asyncpg), or in SQLAlchemy's SQLite text."""
    return (lambda moment: moment) if dialect == "postgresql" else _sqlite_time


def sender_columns(workspace_id: str, source_id: str | None, trusted: bool) -> tuple[Any, ...]:
    """Return the values of SENDER_COLUMNS, to put before rows built by `event_rows`."""
    return (workspace_id, source_id, trusted)


def event_rows(
    calls: list[Call], received_at: datetime, encode_time: TimeEncoder
) -> list[tuple[Any, ...]]:
    """Return the event-store rows of some calls (EVENT_COLUMNS after SENDER_COLUMNS), each
    payload sealed to its row id."""
    index = keyring().blind_index
    received = encode_time(received_at)
    event_ids = new_ids(len(calls))
    payloads = seal_payloads([call.raw for call in calls], event_ids)
    encoded: dict[datetime | None, Any] = {None: None}  # a batch shares sentAt, often more

    def encode(moment: datetime | None) -> Any:
        if moment not in encoded:
            encoded[moment] = encode_time(moment)
        return encoded[moment]

    return [
        (
            event_id, received, call.message_id, call.type, call.name,
            call.user_id and index(call.user_id, "events.user_id"),
            call.anonymous_id and index(call.anonymous_id, "events.anonymous_id"),
            call.channel, encode(call.timestamp), received, encode(call.sent_at),
            encode(call.original_timestamp), payload, call.lookup_key,
        )
        for call, event_id, payload in zip(calls, event_ids, payloads, strict=True)
    ]  # fmt: skip
