"""Password hashing (Argon2id) and policy (length and a list of common passwords)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import weakref
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from rapport.errors import UnprocessableContent

STAFF_MIN_LENGTH = 15
CUSTOMER_MIN_LENGTH = 12
MAX_LENGTH = 256

# OWASP: Argon2id, m=19 MiB, t=2, p=1 is the floor; we use 64 MiB, t=3, p=1.
_hasher = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1, hash_len=32, salt_len=16)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check unknown accounts' passwords against (made on first use, not when the
    module loads: every CLI command would pay for it)."""
    return _hasher.hash("rapport-timing-equaliser-not-a-password")


# Argon2 is meant to be slow: at most this many run at once, so a burst of sign-ins (or a
# guessing attack) queues for a hashing turn instead of taking every core from the live path.
HASHING_THREADS = max(1, (os.cpu_count() or 2) - 1)
_hashing_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
Result = TypeVar("Result")


async def in_hashing_thread(function: Callable[..., Result], *arguments: object) -> Result:
    """Run a password hash or check in a thread, at most HASHING_THREADS at a time."""
    loop = asyncio.get_running_loop()
    turns = _hashing_turns.setdefault(loop, asyncio.Semaphore(HASHING_THREADS))
    async with turns:
        return await asyncio.to_thread(function, *arguments)


class WeakPassword(UnprocessableContent):
    """The chosen password does not meet the policy."""


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from leaked corpora.
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_policy(password: str, *, min_length: int, context: tuple[str, ...] = ()) -> None:
    """Raise WeakPassword unless the password is long enough and not common or guessable."""
    if len(password) < min_length:
        raise WeakPassword(f"Password must be at least {min_length} characters long.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Password must be at most {MAX_LENGTH} characters long.")
    folded = password.lower()
    if folded in _common_passwords() or _is_repetition_of_common(folded):
        raise WeakPassword("This password is on a list of commonly used passwords.")
    for word in context:
        if len(word) >= 4 and word.lower() in folded and len(folded) - len(word) < 8:
            raise WeakPassword("Password must not be built from your name or email.")


def _is_repetition_of_common(folded: str) -> bool:
    for size in range(1, len(folded) // 2 + 1):
        unit = folded[:size]
        if len(folded) % size == 0 and unit * (len(folded) // size) == folded:
            return size < 4 or unit in _common_passwords()
    return False


def hash_password(password: str) -> str:
    """Hash a password with Argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Check a password; return (ok, new hash when the stored one needs upgrading)."""
    if password_hash is None:
        _burn_time(password)
        return False, None
    try:
        _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if _hasher.check_needs_rehash(password_hash):
        return True, _hasher.hash(password)
    return True, None


def _burn_time(password: str) -> None:
    # Unknown accounts cost the same as known ones, so timing does not reveal them.
    with contextlib.suppress(VerifyMismatchError):
        _hasher.verify(_dummy_hash(), password)
