"""Feedback tests read what the CLI and the app seal: the test's key ring is theirs."""

from __future__ import annotations

import pytest

from rapport.config import Settings
from rapport.core.crypto import configure_keyring


@pytest.fixture(autouse=True)
def _key_ring(settings: Settings) -> None:
    configure_keyring(settings.secret_keys())
