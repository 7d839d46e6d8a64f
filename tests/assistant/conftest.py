"""Every assistant test labels with the deterministic fakes unless it says otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rapport.assistant.knowledge import use_search
from rapport.assistant.labels import use_models
from rapport.domains import load_tasks
from tests.fixtures.assistant import use_fakes


@pytest.fixture(autouse=True)
def _fake_models() -> Iterator[None]:
    load_tasks()
    use_fakes()
    yield
    use_models(None)
    use_search(None)
