"""Keyset pagination helpers shared by list endpoints."""

from __future__ import annotations

import base64
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from rapport.errors import BadRequest

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list, with the cursor of the next page."""

    items: list[ItemT] = Field(description="The items of this page.")
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last."
    )


def encode_cursor(values: list[Any]) -> str:
    """Turn the sort key of the last item into an opaque cursor."""
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    """Read a cursor made by `encode_cursor`; a tampered one is a 400."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError as error:
        raise BadRequest("cursor is not valid") from error
    if not isinstance(values, list):
        raise BadRequest("cursor is not valid")
    return values
