"""Standard Webhooks signatures: `whsec_` secrets, and `v1,` HMAC-SHA256 over
`{webhook-id}.{webhook-timestamp}.{body}`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from rapport.core.crypto import keyring

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = 24


def new_secret() -> str:
    """Return a new signing secret: `whsec_` and 24 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Return the `webhook-signature` value of one message."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def seal_secret(endpoint_id: str, secret: str) -> bytes:
    """Seal an endpoint's secret to its row."""
    return keyring().encrypt(secret, f"webhook_endpoints.secret:{endpoint_id}")


def open_secret(endpoint_id: str, sealed: bytes) -> str:
    """Return an endpoint's secret."""
    return keyring().decrypt(sealed, f"webhook_endpoints.secret:{endpoint_id}")
