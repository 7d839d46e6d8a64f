"""Cursors: issued and signed here, bound to their list, checked before they are read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rapport.core import crypto
from rapport.core.crypto import configure_keyring
from rapport.core.pagination import decode_cursor, encode_cursor
from rapport.errors import BadRequest

OLD_MASTER = b"old-master-key-for-cursor-tests-0123456789"
NEW_MASTER = b"new-master-key-for-cursor-tests-0123456789"


@pytest.fixture(autouse=True)
def restore_keyring() -> Iterator[None]:
    """Give the process key ring back as it was."""
    previous = crypto._keyring
    yield
    crypto._keyring = previous


def _pair(values: list[Any]) -> tuple[str, int]:
    name, number = values
    if not isinstance(name, str) or not isinstance(number, int):
        raise TypeError("a pair")
    return name, number


def test_a_cursor_reads_back_its_values() -> None:
    configure_keyring([NEW_MASTER])
    assert decode_cursor("test.list", encode_cursor("test.list", ["a", 7]), _pair) == ("a", 7)


def test_a_cursor_signed_before_a_key_rotation_still_reads() -> None:
    configure_keyring([OLD_MASTER])
    issued = encode_cursor("test.list", ["a", 7])
    configure_keyring([NEW_MASTER, OLD_MASTER])
    assert decode_cursor("test.list", issued, _pair) == ("a", 7)


def test_a_cursor_of_a_key_no_longer_in_the_ring_is_refused() -> None:
    configure_keyring([OLD_MASTER])
    issued = encode_cursor("test.list", ["a", 7])
    configure_keyring([NEW_MASTER])
    with pytest.raises(BadRequest, match="cursor is not valid"):
        decode_cursor("test.list", issued, _pair)


@pytest.mark.parametrize("cursor", ["", "x", "é" * 60, "\x00" * 44, "WyJhIiw3XQ" + "A" * 43])
def test_anything_not_issued_here_is_refused(cursor: str) -> None:
    configure_keyring([NEW_MASTER])
    with pytest.raises(BadRequest, match="cursor is not valid"):
        decode_cursor("test.list", cursor, _pair)


def test_a_signed_cursor_the_list_cannot_read_is_refused() -> None:
    configure_keyring([NEW_MASTER])
    with pytest.raises(BadRequest, match="cursor is not valid"):
        decode_cursor("test.list", encode_cursor("test.list", ["a", "not a number"]), _pair)
