"""CSRF tokens: an HMAC of the session (or pre-session cookie) under the master key."""

from __future__ import annotations

from rapport.core.crypto import keyring

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def csrf_token(seed: str) -> str:
    """Return the CSRF token bound to `seed` (a session's token hash or a pre-session nonce)."""
    return keyring().sign(f"csrf:{seed}")


def csrf_valid(seed: str, token: str | None) -> bool:
    """Check a presented CSRF token against its seed."""
    return bool(token) and keyring().verify(f"csrf:{seed}", token or "")
