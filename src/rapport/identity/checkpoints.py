"""Signed checkpoints of the audit chain: Ed25519 statements anyone with the public key checks."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.crypto import key_fingerprint, keyring
from rapport.errors import BadRequest, Conflict
from rapport.identity.audit import GENESIS_HASH, ChainReport, audit
from rapport.identity.models import AuditCheckpoint
from rapport.identity.repository import AuditCheckpointRepository, AuditRepository

CHECKPOINT_PURPOSE = "rapport.audit-checkpoint.ed25519.v1"
CHECKPOINT_FORMAT = "rapport.audit-checkpoint.v1"


class InvalidCheckpoint(BadRequest):
    """A checkpoint file that is malformed or whose signature does not verify."""


class AuditChainBroken(Conflict):
    """The chain does not verify, so no checkpoint may vouch for it."""


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the audit chain's record `seq` had hash `hash` at `created_at`."""

    seq: int
    hash: str
    created_at: datetime
    key_id: str
    signature: str

    def statement(self) -> dict[str, Any]:
        """Return what the signature covers."""
        return {
            "format": CHECKPOINT_FORMAT,
            "seq": self.seq,
            "hash": self.hash,
            "created_at": self.created_at.isoformat(timespec="microseconds"),
            "key_id": self.key_id,
        }

    def message(self) -> bytes:
        """Return the signed bytes: the statement as sorted, compact JSON."""
        return json.dumps(self.statement(), sort_keys=True, separators=(",", ":")).encode()

    def export(self) -> str:
        """Return the checkpoint as a JSON document to keep outside the server."""
        return json.dumps({**self.statement(), "signature": self.signature}, indent=2) + "\n"

    @classmethod
    def of(cls, row: AuditCheckpoint) -> Checkpoint:
        """Return the statement a stored checkpoint makes."""
        return cls(row.seq, row.hash, row.created_at, row.key_id, row.signature)

    @classmethod
    def parse(cls, document: str) -> Checkpoint:
        """Read an exported checkpoint; raise InvalidCheckpoint if it is not one."""
        try:
            fields = json.loads(document)
            if fields.get("format") != CHECKPOINT_FORMAT:
                raise ValueError("unknown format")
            checkpoint = cls(
                int(fields["seq"]),
                str(fields["hash"]),
                datetime.fromisoformat(fields["created_at"]),
                str(fields["key_id"]),
                str(fields["signature"]),
            )
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise InvalidCheckpoint("Not a Rapport audit checkpoint file.") from error
        if checkpoint.message() != cls._reserialised(fields):
            raise InvalidCheckpoint("The checkpoint file's fields are not in canonical form.")
        return checkpoint

    @staticmethod
    def _reserialised(fields: dict[str, Any]) -> bytes:
        unsigned = {name: value for name, value in fields.items() if name != "signature"}
        return json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()


def public_key_text(key: Ed25519PublicKey) -> str:
    """Return a public key as standard base64 of its 32 raw bytes."""
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def load_public_key(text: str) -> Ed25519PublicKey:
    """Read a public key printed by `rapport audit public-key`; raise InvalidCheckpoint."""
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error) as error:
        raise InvalidCheckpoint("Not an Ed25519 public key (base64 of 32 bytes).") from error


def key_id_of(key: Ed25519PublicKey) -> str:
    """Return a public key's fingerprint, the key id checkpoints carry."""
    return key_fingerprint(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_keys() -> dict[str, Ed25519PublicKey]:
    """Return the ring's checkpoint public keys by key id, newest first."""
    keys = [private.public_key() for private in keyring().signing_keys(CHECKPOINT_PURPOSE)]
    return {key_id_of(key): key for key in keys}


def signature_valid(checkpoint: Checkpoint, keys: Mapping[str, Ed25519PublicKey]) -> bool:
    """Check a checkpoint's signature with the trusted key its key id names."""
    key = keys.get(checkpoint.key_id)
    if key is None:
        return False
    try:
        padded = checkpoint.signature + "=" * (-len(checkpoint.signature) % 4)
        key.verify(base64.urlsafe_b64decode(padded), checkpoint.message())
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def sign(seq: int, digest: str) -> Checkpoint:
    """Sign a statement of the chain head with the ring's newest checkpoint key."""
    private = keyring().signing_keys(CHECKPOINT_PURPOSE)[0]
    unsigned = Checkpoint(seq, digest, utcnow(), key_id_of(private.public_key()), "")
    signature = base64.urlsafe_b64encode(private.sign(unsigned.message())).decode().rstrip("=")
    return Checkpoint(seq, digest, unsigned.created_at, unsigned.key_id, signature)


class AuditCheckpointService:
    async def create(self, session: AsyncSession) -> Checkpoint:
        """Verify the chain since the last checkpoint, then sign and store its head
        (the last checkpoint is returned when the head has not moved)."""
        latest = await AuditCheckpointRepository(session).latest()
        after = (0, GENESIS_HASH)
        if latest is not None and signature_valid(Checkpoint.of(latest), public_keys()):
            after = (latest.seq, latest.hash)
        report = await audit.verify(session, after=after)
        if report.first_broken_seq is not None:
            raise AuditChainBroken(
                f"Audit chain broken at record {report.first_broken_seq} ({report.reason})."
            )
        head_seq, head_hash = await AuditRepository(session).head()
        if latest is not None and after == (head_seq, head_hash):
            return Checkpoint.of(latest)
        checkpoint = sign(head_seq, head_hash)
        await AuditCheckpointRepository(session).add(
            AuditCheckpoint(
                seq=checkpoint.seq,
                hash=checkpoint.hash,
                created_at=checkpoint.created_at,
                key_id=checkpoint.key_id,
                signature=checkpoint.signature,
            )
        )
        return checkpoint

    async def verify(
        self,
        session: AsyncSession,
        *,
        external: Checkpoint | None = None,
        trusted: Mapping[str, Ed25519PublicKey] | None = None,
    ) -> ChainReport:
        """Verify the whole chain against every stored checkpoint and an exported one."""
        keys = public_keys() if trusted is None else trusted
        if external is not None and not signature_valid(external, keys):
            raise InvalidCheckpoint("The checkpoint's signature does not verify with the key.")
        anchors: dict[int, str] = {}
        for row in await AuditCheckpointRepository(session).in_order():
            stored = Checkpoint.of(row)
            if not signature_valid(stored, public_keys()):
                return ChainReport(
                    0, stored.seq, f"stored checkpoint {row.id} does not verify with the key ring"
                )
            anchors[stored.seq] = stored.hash
        if external is not None:
            if anchors.get(external.seq, external.hash) != external.hash:
                return ChainReport(0, external.seq, "stored checkpoints contradict the file")
            anchors[external.seq] = external.hash
        return await audit.verify(session, anchors=anchors)


audit_checkpoints = AuditCheckpointService()
