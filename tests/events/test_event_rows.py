"""The event row, defined once: built by preparation, inserted by the repository, each payload
sealed to its own row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from sqlalchemy import select

from rapport.config import Settings
from rapport.core.crypto import DecryptionError, configure_keyring
from rapport.core.db import Database
from rapport.customers.pii import blind_index
from rapport.events.enums import CallType
from rapport.events.models import Event
from rapport.events.preparation import prepare
from rapport.events.repository import EventRepository
from rapport.events.rows import EVENT_COLUMNS, SENDER_COLUMNS, encode_time_for, sender_columns
from rapport.events.sealed import open_payload, seal_payloads
from tests.fixtures.events import track
from tests.fixtures.identity import make_workspace

RECEIVED = datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=UTC)
SENT = "2026-12-02T09:30:14.5Z"


def test_sqlite_times_are_sqlalchemys_text_in_utc_and_postgresql_times_pass_as_they_are() -> None:
    paris = datetime(2026, 12, 2, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert encode_time_for("sqlite")(paris) == "2026-12-02 09:30:15.123456"
    assert encode_time_for("sqlite")(None) is None
    assert encode_time_for("postgresql")(paris) is paris


def test_a_payload_opens_only_with_the_id_of_the_row_it_was_sealed_to(settings: Settings) -> None:
    configure_keyring(settings.secret_keys())
    first, second = seal_payloads([b'{"n": 1}', b'{"n": 2}'], ["ev-1", "ev-2"])
    assert open_payload("ev-1", first) == {"n": 1}
    assert open_payload("ev-2", second) == {"n": 2}
    with pytest.raises(DecryptionError):
        open_payload("ev-2", first)  # a payload copied onto another row does not open


async def test_prepared_rows_fill_every_event_column_and_read_back_as_sent(
    settings: Settings, database: Database
) -> None:
    configure_keyring(settings.secret_keys())
    workspace = await make_workspace(database)
    message = track("Product Viewed", sentAt=SENT, timestamp="2026-12-02T09:30:14Z")
    body = orjson.dumps(message)
    dialect = "postgresql" if database.is_postgres else "sqlite"
    prepared = prepare(body, "", CallType.track, RECEIVED, dialect)
    assert prepared.rejected == []
    assert [len(SENDER_COLUMNS + row) for row in prepared.rows] == [len(EVENT_COLUMNS)]
    stamp = sender_columns(workspace.id, None, True)
    async with database.session() as session:
        await EventRepository(session, workspace.id).insert_many(
            [stamp + row for row in prepared.rows]
        )
    async with database.session() as session:
        event = (await session.execute(select(Event))).scalar_one()
    assert (event.workspace_id, event.source_id, event.trusted) == (workspace.id, None, True)
    assert (event.message_id, event.type, event.name) == (
        message["messageId"],
        "track",
        "Product Viewed",
    )
    assert (event.customer_id, event.processed) == (None, False)
    assert event.received_at.replace(tzinfo=UTC) == RECEIVED
    assert event.sent_at.replace(tzinfo=UTC) == datetime(2026, 12, 2, 9, 30, 14, 500000, UTC)
    # Corrected for the sender's clock: received less the half second between stamp and send.
    assert event.timestamp.replace(tzinfo=UTC) == datetime(2026, 12, 2, 9, 30, 14, 623456, UTC)
    assert event.original_timestamp.replace(tzinfo=UTC) == datetime(2026, 12, 2, 9, 30, 14, 0, UTC)
    assert open_payload(event.id, event.payload)["event"] == "Product Viewed"
    # Told by one anonymous id alone: stored with that id's key in the identity graph.
    assert event.lookup_key == blind_index("anonymous_id", message["anonymousId"])


def test_a_call_whose_lookup_key_cannot_be_read_is_stored_without_one(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key only saves processing work: a failure to compute it never refuses a call."""
    configure_keyring(settings.secret_keys())
    body = orjson.dumps(track("Product Viewed", anonymousId="a-1"))
    key_column = EVENT_COLUMNS.index("lookup_key") - len(SENDER_COLUMNS)
    [keyed] = prepare(body, "", CallType.track, RECEIVED, "sqlite").rows
    assert keyed[key_column] is not None

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a reader bug")

    monkeypatch.setattr("rapport.events.signals.signal_of", broken)
    prepared = prepare(body, "", CallType.track, RECEIVED, "sqlite")
    assert prepared.rejected == []
    [row] = prepared.rows
    assert row[key_column] is None
