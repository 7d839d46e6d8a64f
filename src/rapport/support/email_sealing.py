"""An email's counterpart address and subject, sealed to its record (personal data); the
IMAP mailbox password, sealed to the workspace's email settings."""

from __future__ import annotations

import json

from rapport.core.crypto import keyring
from rapport.support.email_models import EmailRecord, EmailSettings


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


def seal_imap_password(settings_id: str, password: str) -> bytes:
    """Seal a workspace's IMAP mailbox password to its email settings row."""
    return keyring().encrypt(password, f"support_email_settings.imap_password:{settings_id}")


def open_imap_password(settings: EmailSettings) -> str:
    """Return a workspace's IMAP mailbox password ("" when none is stored)."""
    if settings.imap_password is None:
        return ""
    return keyring().decrypt(
        settings.imap_password, f"support_email_settings.imap_password:{settings.id}"
    )
