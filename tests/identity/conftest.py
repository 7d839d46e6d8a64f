"""Identity services read the test's settings and key ring, as create_app would set them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rapport.config import Settings
from rapport.core.crypto import configure_keyring
from rapport.identity.sessions import sign_ins


@pytest.fixture(autouse=True)
def _identity_configured(settings: Settings) -> Iterator[None]:
    configure_keyring(settings.secret_keys())
    sign_ins.configure(settings)
    yield
