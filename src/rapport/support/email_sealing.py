"""An email's counterpart address and subject, sealed to its record (personal data)."""

from __future__ import annotations

import json

from rapport.core.crypto import keyring
from rapport.support.email_models import EmailRecord


def record_aad(record_id: str) -> str:
    """Return the associated data that binds an email's sealed address and subject."""
    return f"conversation_emails.sealed:{record_id}"


def seal_envelope(record_id: str, address: str, subject: str) -> bytes:
    """Seal an email's counterpart address and subject to its record."""
    plain = json.dumps({"address": address, "subject": subject})
    return keyring().encrypt(plain, record_aad(record_id))


def open_envelope(record: EmailRecord) -> tuple[str, str]:
    """Return an email record's counterpart address and subject."""
    opened = json.loads(keyring().decrypt(record.sealed, record_aad(record.id)))
    return str(opened["address"]), str(opened["subject"])
