"""Every assistant test labels with the deterministic fakes unless it says otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.assistant import fake_models


@pytest.fixture(autouse=True)
def _fake_models() -> Iterator[None]:
    with fake_models():
        yield
