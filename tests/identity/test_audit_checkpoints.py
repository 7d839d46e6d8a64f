"""Signed checkpoints: made periodically, exported, checked by anyone with the public key."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, update

from rapport.core.crypto import KeyRing, configure_keyring
from rapport.core.db import Database
from rapport.core.jobs import ScheduleDefinition, enqueue, registered_schedules
from rapport.identity.audit import MAC_PURPOSE, ChainReport, event_mac
from rapport.identity.checkpoints import (
    AuditChainBroken,
    Checkpoint,
    InvalidCheckpoint,
    audit_checkpoints,
    key_id_of,
    public_key_text,
    public_keys,
)
from rapport.identity.models import AuditChainHead, AuditCheckpoint, AuditEvent
from rapport.identity.tasks import CHECKPOINT_CRON
from rapport.worker.runner import Worker
from tests.conftest import TEST_SECRET
from tests.fixtures.audit import drop_guards, execute, record

NEW_SECRET = b"a-newer-master-secret-for-rotation-0123456789abcdef"
JOB = "identity.checkpoint_audit_chain"


@pytest.fixture
def restore_ring() -> Iterator[None]:
    yield
    configure_keyring([TEST_SECRET.encode()])


async def _checkpoint(database: Database) -> Checkpoint:
    async with database.session() as session:
        return await audit_checkpoints.create(session)


async def _verify(database: Database, external: Checkpoint | None = None) -> ChainReport:
    async with database.session() as session:
        return await audit_checkpoints.verify(session, external=external)


async def _stored(database: Database) -> list[tuple[int, str]]:
    async with database.session() as session:
        statement = select(AuditCheckpoint.seq, AuditCheckpoint.key_id).order_by(AuditCheckpoint.id)
        return [(seq, key_id) for seq, key_id in await session.execute(statement)]


async def _head(database: Database) -> tuple[int, str]:
    async with database.session() as session:
        row = (await session.execute(select(AuditChainHead.seq, AuditChainHead.hash))).one()
    return int(row[0]), str(row[1])


async def _rewrite_with_the_server_key(database: Database, seq: int) -> None:
    """Change record `seq` and re-MAC it and every later one with the real key (an insider)."""
    await drop_guards(database)
    key = KeyRing([TEST_SECRET.encode()]).purpose_keys(MAC_PURPOSE)[0]
    async with database.session() as session:
        rows = (await session.execute(select(AuditEvent).order_by(AuditEvent.seq))).scalars()
        previous = None
        for event in rows:
            if event.seq == seq:
                event.target_id = "forged"
            if event.seq >= seq:
                event.prev_hash = previous or event.prev_hash
                event.hash = event_mac(event, key.secret)
            previous = event.hash
        await session.execute(update(AuditChainHead).values(hash=previous))


def third_party_verifies(document: str, published_key: str) -> bool:
    """Check an exported checkpoint as the docs tell a third party to: Ed25519 over the
    sorted, compact JSON of every field but the signature."""
    fields = json.loads(document)
    signature = base64.urlsafe_b64decode(fields.pop("signature") + "==")
    message = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(published_key))
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


async def test_checkpoint_states_the_head_signed_by_the_ring(database: Database) -> None:
    await record(database, 3)
    checkpoint = await _checkpoint(database)
    [(key_id, key)] = public_keys().items()
    assert (checkpoint.seq, checkpoint.hash) == await _head(database)
    assert (checkpoint.key_id, key_id_of(key)) == (key_id, key_id)
    assert await _stored(database) == [(3, key_id)]


async def test_checkpoint_of_an_unmoved_head_is_the_last_one(database: Database) -> None:
    await record(database, 2)
    first = await _checkpoint(database)
    assert await _checkpoint(database) == first
    assert len(await _stored(database)) == 1


async def test_exported_checkpoint_verifies_with_only_the_published_key(
    database: Database,
) -> None:
    await record(database, 2)
    document = (await _checkpoint(database)).export()
    [key] = public_keys().values()
    assert third_party_verifies(document, public_key_text(key)) is True
    forged = document.replace('"seq": 2', '"seq": 1')
    assert third_party_verifies(forged, public_key_text(key)) is False


async def test_parsed_export_is_the_same_checkpoint(database: Database) -> None:
    await record(database, 1)
    checkpoint = await _checkpoint(database)
    assert Checkpoint.parse(checkpoint.export()) == checkpoint


def test_malformed_file_is_refused() -> None:
    with pytest.raises(InvalidCheckpoint, match=r"Not a Rapport audit checkpoint file\."):
        Checkpoint.parse('{"seq": 1}')


async def test_altered_exported_checkpoint_is_refused(database: Database) -> None:
    await record(database, 2)
    document = (await _checkpoint(database)).export().replace('"seq": 2', '"seq": 1')
    with pytest.raises(InvalidCheckpoint, match="signature does not verify"):
        await _verify(database, Checkpoint.parse(document))


async def test_insider_rewrite_is_caught_by_the_stored_checkpoint(database: Database) -> None:
    await record(database, 3)
    await _checkpoint(database)
    await record(database, 2)
    await _rewrite_with_the_server_key(database, 2)
    assert await _verify(database) == ChainReport(2, 3, "differs from a signed checkpoint")


async def test_insider_rewrite_is_caught_by_the_exported_checkpoint(database: Database) -> None:
    await record(database, 3)
    exported = Checkpoint.parse((await _checkpoint(database)).export())
    await record(database, 2)
    await _rewrite_with_the_server_key(database, 2)
    await execute(database, "DELETE FROM audit_checkpoints")
    assert await _verify(database) == ChainReport(5, None)
    assert await _verify(database, exported) == ChainReport(
        2, 3, "differs from a signed checkpoint"
    )


async def test_checkpointed_record_cut_off_is_reported(database: Database) -> None:
    await record(database, 4)
    exported = await _checkpoint(database)
    await drop_guards(database)
    await execute(database, "DELETE FROM audit_events WHERE seq >= 3")
    await execute(
        database,
        "UPDATE audit_chain_head SET seq = 2, hash = (SELECT hash FROM audit_events WHERE seq = 2)",
    )
    await execute(database, "DELETE FROM audit_checkpoints")
    assert await _verify(database, exported) == ChainReport(
        2, 4, "a checkpointed record is missing"
    )


async def test_forged_stored_checkpoint_is_reported(database: Database) -> None:
    await record(database, 2)
    await _checkpoint(database)
    await drop_guards(database)
    await execute(database, "UPDATE audit_checkpoints SET seq = 1")
    report = await _verify(database)
    assert (report.first_broken_seq, report.reason) == (
        1,
        "stored checkpoint 1 does not verify with the key ring",
    )


async def test_checkpoints_survive_rotation(database: Database, restore_ring: None) -> None:
    await record(database, 2)
    old = await _checkpoint(database)
    configure_keyring([NEW_SECRET, TEST_SECRET.encode()])
    await record(database, 1)
    new = await _checkpoint(database)
    new_id, old_id = public_keys()
    assert (old.key_id, new.key_id) == (old_id, new_id)
    assert await _verify(database, old) == ChainReport(3, None)


async def test_broken_chain_is_not_checkpointed(database: Database) -> None:
    await record(database, 3)
    await drop_guards(database)
    await execute(database, "UPDATE audit_events SET target_id = 'forged' WHERE seq = 2")
    with pytest.raises(AuditChainBroken, match=r"broken at record 2 \(content does not match"):
        await _checkpoint(database)


def test_checkpoint_job_runs_every_quarter_hour() -> None:
    assert ScheduleDefinition(JOB, CHECKPOINT_CRON) in registered_schedules()
    assert CHECKPOINT_CRON == "*/15 * * * *"


async def test_periodic_job_checkpoints_only_a_moved_head(database: Database) -> None:
    await record(database, 2)
    for _ in range(2):
        async with database.session() as session:
            enqueue(session, JOB)
        await Worker(database).run_pending()
    await record(database, 1)
    async with database.session() as session:
        enqueue(session, JOB)
    await Worker(database).run_pending()
    assert [seq for seq, _ in await _stored(database)] == [2, 3]
