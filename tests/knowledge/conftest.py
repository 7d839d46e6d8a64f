"""Knowledge tests embed with the deterministic fake unless they ask for MiniLM."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import pytest

from rapport.knowledge.embedding import use_embedder
from rapport.nlp.embeddings import OnnxEmbedder, installed_minilm
from rapport.nlp.fakes import FakeEmbedder
from rapport.nlp.ports import Embedder


@pytest.fixture(autouse=True)
def fake_embedder() -> Iterator[Embedder]:
    """Embed with FakeEmbedder for the test, then let the next user load the real one."""
    fake = FakeEmbedder()
    use_embedder(fake)
    yield fake
    use_embedder(None)


@cache
def _minilm() -> Embedder | None:
    files = installed_minilm()
    return OnnxEmbedder(files) if files is not None else None


@pytest.fixture
def minilm() -> Iterator[Embedder]:
    """Embed with MiniLM (skipped where the model is not installed)."""
    model = _minilm()
    if model is None:
        pytest.skip("MiniLM is not installed")
    use_embedder(model)
    yield model
    use_embedder(None)
