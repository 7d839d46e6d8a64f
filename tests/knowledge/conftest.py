"""Knowledge tests embed with the deterministic fake unless they ask for MiniLM."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rapport.knowledge.embedding import use_embedder
from rapport.nlp.fakes import FakeEmbedder
from rapport.nlp.ports import Embedder
from tests.fixtures.embedding import installed_minilm_embedder


@pytest.fixture(autouse=True)
def fake_embedder() -> Iterator[Embedder]:
    """Embed with FakeEmbedder for the test, then let the next user load the real one."""
    fake = FakeEmbedder()
    use_embedder(fake)
    yield fake
    use_embedder(None)


@pytest.fixture
def minilm() -> Iterator[Embedder]:
    """Embed with MiniLM (skipped where the model is not installed)."""
    model = installed_minilm_embedder()
    if model is None:
        pytest.skip("MiniLM is not installed")
    use_embedder(model)
    yield model
    use_embedder(None)
