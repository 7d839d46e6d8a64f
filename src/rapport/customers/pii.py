"""PII at rest: normalise, seal with AES-GCM bound to table/column/row, blind-index."""

from __future__ import annotations

import re
from typing import Any

import orjson

from rapport.core.crypto import keyring
from rapport.customers.enums import BLOCKED_VALUES

_NOT_PHONE = re.compile(r"[^\d+]")
MAX_VALUE_LENGTH = 255


def normalise(kind: str, value: Any) -> str | None:
    """Return the canonical form of an identifier, or None when it is blocked or unusable."""
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    text = str(value).strip()
    if kind == "email":
        text = text.lower()
        if "@" not in text:
            return None
    elif kind == "phone":
        text = _NOT_PHONE.sub("", text)
        if len(text.lstrip("+")) < 6:
            return None
    if text.lower() in BLOCKED_VALUES or len(text) > MAX_VALUE_LENGTH:
        return None
    return text


def blind_index(kind: str, value: str) -> str:
    """Return the keyed hash under which an identifier is looked up."""
    return keyring().blind_index(value, kind)


def name_index(name: str) -> str:
    """Return the keyed hash of a name, for search by exact name."""
    return keyring().blind_index(" ".join(name.lower().split()), "name")


def seal(value: str, table: str, column: str, row_id: str) -> bytes:
    """Encrypt a value bound to its table, column and row."""
    return keyring().encrypt(value, f"{table}.{column}:{row_id}")


def unseal(blob: bytes, table: str, column: str, row_id: str) -> str:
    """Decrypt a value sealed by `seal` for the same table, column and row."""
    return keyring().decrypt(blob, f"{table}.{column}:{row_id}")


def seal_json(document: dict[str, Any], table: str, column: str, row_id: str) -> bytes:
    """Encrypt a JSON document bound to its table, column and row."""
    return seal(orjson.dumps(document).decode(), table, column, row_id)


def unseal_json(blob: bytes | None, table: str, column: str, row_id: str) -> dict[str, Any]:
    """Decrypt a JSON document sealed by `seal_json` (empty when there is none)."""
    if blob is None:
        return {}
    document: dict[str, Any] = orjson.loads(unseal(blob, table, column, row_id))
    return document
