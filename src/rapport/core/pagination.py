"""Keyset pagination helpers shared by list endpoints: signed, fully validated cursors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from rapport.core.crypto import keyring
from rapport.errors import BadRequest

ItemT = TypeVar("ItemT")
KeyT = TypeVar("KeyT")

# The key ring's key for cursors: the newest master signs, every master verifies.
_PURPOSE = "rapport.cursor.v1"
# URL-safe base64 of an HMAC-SHA256 without padding: the fixed-length tail of every cursor.
_SIGNATURE_LENGTH = 43
# Everything a parser may raise on values it did not expect, a year-9999 offset included.
_MALFORMED = (ValueError, TypeError, IndexError, KeyError, OverflowError)


class Page(BaseModel, Generic[ItemT]):
    """One page of a list, with the cursor of the next page."""

    items: list[ItemT] = Field(description="The items of this page.")
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last."
    )


def owned_kind(kind: str, owner_id: str) -> str:
    """Name one owner's list (a customer's timeline), so its cursors serve no other's."""
    return f"{kind}:{owner_id}"


def encode_cursor(kind: str, values: list[str | int]) -> str:
    """Turn the sort key of the last item into an opaque cursor, signed for one kind of list."""
    packed = json.dumps(values, separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(packed).decode().rstrip("=")
    return payload + _signature(keyring().purpose_keys(_PURPOSE)[0].secret, kind, payload)


def decode_cursor(kind: str, cursor: str, parse: Callable[[list[Any]], KeyT]) -> KeyT:
    """Read a cursor this server issued for `kind` through `parse`; anything else is a 400."""
    payload, signature = cursor[:-_SIGNATURE_LENGTH], cursor[-_SIGNATURE_LENGTH:].encode()
    keys = keyring().purpose_keys(_PURPOSE)
    if not payload or not any(
        hmac.compare_digest(_signature(key.secret, kind, payload).encode(), signature)
        for key in keys
    ):
        raise BadRequest("cursor is not valid")
    try:
        values = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if not isinstance(values, list):
            raise TypeError("a cursor holds a list")
        return parse(values)
    except _MALFORMED as error:
        # Signed here, but not in the shape this list reads now (an older release).
        raise BadRequest("cursor is not valid") from error


def _signature(key: bytes, kind: str, payload: str) -> str:
    # The kind keeps a cursor of one list from being replayed on another.
    digest = hmac.new(key, f"{kind}:{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
