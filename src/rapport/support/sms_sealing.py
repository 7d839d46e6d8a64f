"""A text's numbers and media links, sealed to its record; the auth token, to its settings."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rapport.core.crypto import keyring
from rapport.support.sms_models import SmsRecord, SmsSettings

PHONE_INDEX = "sms_phone"


@dataclass(frozen=True)
class TextEnvelope:
    """The customer's number, the shop's number of the exchange, MMS media links."""

    phone: str
    shop_number: str
    media: list[dict[str, str]]


def phone_index(phone: str) -> str:
    """Return the blind index SMS conversations are threaded by."""
    return keyring().blind_index(phone.strip(), PHONE_INDEX)


def seal_text(record_id: str, envelope: TextEnvelope) -> bytes:
    """Seal a text's numbers and media links to its record."""
    plain = json.dumps(
        {"phone": envelope.phone, "shop": envelope.shop_number, "media": envelope.media}
    )
    return keyring().encrypt(plain, f"conversation_sms.sealed:{record_id}")


def open_text(record: SmsRecord) -> TextEnvelope:
    """Return a record's numbers and media links."""
    opened = json.loads(keyring().decrypt(record.sealed, f"conversation_sms.sealed:{record.id}"))
    return TextEnvelope(str(opened["phone"]), str(opened["shop"]), list(opened["media"]))


def seal_auth_token(settings_id: str, token: str) -> bytes:
    """Seal a workspace's Twilio auth token to its settings row."""
    return keyring().encrypt(token, f"support_sms_settings.auth_token:{settings_id}")


def open_auth_token(settings: SmsSettings) -> str:
    """Return a workspace's Twilio auth token."""
    return keyring().decrypt(settings.auth_token, f"support_sms_settings.auth_token:{settings.id}")
