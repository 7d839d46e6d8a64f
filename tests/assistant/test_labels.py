"""The labelling models: one embedding per message for both heads; cleaning what they read."""

from __future__ import annotations

from collections.abc import Sequence

from rapport.assistant.labels import MAX_MODEL_CHARS, clean
from rapport.nlp.embeddings import RememberingEmbedder
from rapport.nlp.fakes import FakeEmbedder
from rapport.nlp.ports import Vectors


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed and count."""
        self.calls += 1
        return super().embed(texts)


def test_the_same_message_is_embedded_once() -> None:
    inner = CountingEmbedder()
    embedder = RememberingEmbedder(inner)
    first = embedder.embed(["where is my order"])
    second = embedder.embed(["where is my order"])
    embedder.embed(["something else"])
    assert (inner.calls, (first == second).all()) == (2, True)


def test_cleaning_drops_control_characters_and_cuts_long_text() -> None:
    assert clean("a\x00b\x1f c\n\td") == "a b c d"
    assert len(clean("x" * 100_000)) == MAX_MODEL_CHARS
