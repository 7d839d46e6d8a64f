"""The keyed audit chain: HMAC per record, key rotation, and rewrites an attacker recomputes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from rapport.core.crypto import KeyRing, PurposeKey, configure_keyring, keyring
from rapport.core.db import Database
from rapport.identity.audit import (
    GENESIS_HASH,
    KEYED_MAC,
    LEGACY_DIGEST,
    MAC_PURPOSE,
    ChainReport,
    audit,
    event_digest,
    event_mac,
)
from rapport.identity.models import AuditChainHead, AuditEvent
from tests.conftest import TEST_SECRET
from tests.fixtures.audit import chain, drop_guards, record

NEW_SECRET = b"a-newer-master-secret-for-rotation-0123456789abcdef"
ATTACKER_SECRET = b"the-attacker-guesses-some-secret-0123456789abcdef"


@pytest.fixture
def rotated() -> Iterator[None]:
    """Put a new master in front of the test's one, as RAPPORT_SECRET_KEY="new,old" does."""
    configure_keyring([NEW_SECRET, TEST_SECRET.encode()])
    yield
    configure_keyring([TEST_SECRET.encode()])


async def _verify(database: Database) -> ChainReport:
    async with database.session() as session:
        return await audit.verify(session)


def _mac_key(master: bytes) -> PurposeKey:
    """Return the audit MAC key a master derives (what an attacker computes for their own)."""
    return KeyRing([master]).purpose_keys(MAC_PURPOSE)[0]


async def _rewrite_from(database: Database, seq: int, seal: str, key: bytes = b"") -> None:
    """Change record `seq`, then recompute it and every later record and the head, as an
    attacker who owns the database would: `seal` is "legacy" (the unkeyed digest) or "keyed"
    (the project's HMAC under `key`, named with the key's own fingerprint)."""
    await drop_guards(database)
    mac_key = _mac_key(key or b"unused")
    async with database.session() as session:
        rows = (await session.execute(select(AuditEvent).order_by(AuditEvent.seq))).scalars()
        previous = GENESIS_HASH
        for event in rows:
            if event.seq == seq:
                event.target_id = "forged"
            if event.seq >= seq:
                event.prev_hash = previous
                if seal == "legacy":
                    event.mac_version, event.mac_key_id = LEGACY_DIGEST, None
                    event.hash = event_digest(event)
                else:
                    event.mac_key_id = mac_key.key_id
                    event.hash = event_mac(event, mac_key.secret)
            previous = event.hash
        await session.execute(update(AuditChainHead).values(hash=previous))


async def test_record_is_keyed_with_the_first_ring_key(database: Database) -> None:
    await record(database, 1)
    [event] = await chain(database)
    key = keyring().purpose_keys(MAC_PURPOSE)[0]
    assert (event.mac_version, event.mac_key_id) == (KEYED_MAC, key.key_id)
    assert event.hash == event_mac(event, key.secret)


async def test_key_id_is_a_fingerprint_not_the_key(database: Database) -> None:
    await record(database, 1)
    [event] = await chain(database)
    key = keyring().purpose_keys(MAC_PURPOSE)[0]
    assert len(event.mac_key_id or "") == 16
    assert (event.mac_key_id or "") not in key.secret.hex()


async def test_unkeyed_digest_no_longer_matches_a_record(database: Database) -> None:
    await record(database, 1)
    [event] = await chain(database)
    assert event.hash != event_digest(event)


async def test_rotation_keeps_old_records_verifiable(database: Database, rotated: None) -> None:
    configure_keyring([TEST_SECRET.encode()])
    await record(database, 2)
    configure_keyring([NEW_SECRET, TEST_SECRET.encode()])
    await record(database, 2)
    old_id, new_id = _mac_key(TEST_SECRET.encode()).key_id, _mac_key(NEW_SECRET).key_id
    assert [event.mac_key_id for event in await chain(database)] == [old_id, old_id, new_id, new_id]
    assert await _verify(database) == ChainReport(4, None)


async def test_record_of_a_key_no_longer_in_the_ring_is_reported(
    database: Database, rotated: None
) -> None:
    configure_keyring([TEST_SECRET.encode()])
    await record(database, 2)
    configure_keyring([NEW_SECRET])
    old_id = _mac_key(TEST_SECRET.encode()).key_id
    assert await _verify(database) == ChainReport(
        0, 1, f"made with key {old_id}, which is not in the key ring"
    )


async def test_rewrite_recomputed_with_the_unkeyed_digest_is_detected(database: Database) -> None:
    await record(database, 5)
    await _rewrite_from(database, 2, "legacy")
    assert await _verify(database) == ChainReport(
        1, 2, "not keyed, though the keyed chain had begun"
    )


async def test_rewrite_recomputed_with_a_guessed_key_is_detected(database: Database) -> None:
    await record(database, 5)
    await _rewrite_from(database, 2, "keyed", ATTACKER_SECRET)
    attacker_id = _mac_key(ATTACKER_SECRET).key_id
    assert await _verify(database) == ChainReport(
        1, 2, f"made with key {attacker_id}, which is not in the key ring"
    )


async def test_rewrite_naming_the_real_key_id_but_guessing_the_key_is_detected(
    database: Database,
) -> None:
    await record(database, 4)
    await drop_guards(database)
    async with database.session() as session:
        event = (await session.execute(select(AuditEvent).where(AuditEvent.seq == 3))).scalar_one()
        event.target_id = "forged"
        event.hash = event_mac(event, _mac_key(ATTACKER_SECRET).secret)
    assert await _verify(database) == ChainReport(2, 3, "content does not match its MAC")


async def test_rewrite_recomputed_with_the_server_key_passes_without_checkpoints(
    database: Database,
) -> None:
    # What the MAC cannot stop: whoever holds RAPPORT_SECRET_KEY can rewrite the chain.
    await record(database, 3)
    await _rewrite_from(database, 2, "keyed", TEST_SECRET.encode())
    assert await _verify(database) == ChainReport(3, None)
