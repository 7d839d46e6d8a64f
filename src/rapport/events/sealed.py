"""Stored payloads: each call's original JSON sealed with AES-GCM to its event row's id."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from rapport.core.crypto import DecryptionError, keyring

logger = logging.getLogger("rapport.events")


def payload_aad(event_id: str) -> str:
    """Return the AES-GCM associated data that binds a stored payload to its row."""
    return f"events.payload:{event_id}"


def seal_payloads(raws: list[bytes], event_ids: list[str]) -> list[bytes]:
    """Seal the original JSON of some calls, each to the id of the row that stores it."""
    return keyring().encrypt_many(raws, [payload_aad(event_id) for event_id in event_ids])


def open_payload(event_id: str, payload: bytes) -> dict[str, Any]:
    """Open the stored original call of an event row."""
    document: dict[str, Any] = orjson.loads(keyring().decrypt(payload, payload_aad(event_id)))
    return document


def open_payload_or_none(event_id: str, payload: bytes) -> dict[str, Any] | None:
    """Open a stored call to show it; None (logged) when it no longer opens (its key was
    removed from the key ring, the row was damaged): a list shows it without its contents
    rather than failing whole."""
    try:
        return open_payload(event_id, payload)
    except (DecryptionError, ValueError):
        logger.warning("a stored call does not open", extra={"event_id": event_id})
        return None
