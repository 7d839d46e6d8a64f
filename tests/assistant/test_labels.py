"""The labelling models: one embedding per message for both heads; cleaning what they read."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from rapport.assistant import labels
from rapport.assistant.labels import MAX_MODEL_CHARS, clean
from rapport.nlp.embeddings import RememberingEmbedder
from rapport.nlp.fakes import (
    FakeEmbedder,
    FakeIntentClassifier,
    FakeLanguageDetector,
    FakeSentimentAnalyzer,
)
from rapport.nlp.ports import Vectors
from rapport.support.assistant_desk import MessageLabels
from tests.fixtures.assistant import KEYWORDS


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


class _WhereLabelled:
    """Records the thread each label was computed on, around the process's models."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.threads: list[int] = []
        real = labels.label_text

        def recording(text: str) -> MessageLabels:
            self.threads.append(threading.get_ident())
            return real(text)

        monkeypatch.setattr(labels, "label_text", recording)


async def test_a_short_message_is_labelled_on_the_loop_a_long_one_on_a_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    where = _WhereLabelled(monkeypatch)  # the fakes are loaded (conftest)
    loop = threading.get_ident()
    short = await labels.label_message("where is my order?")
    long = await labels.label_message("where is my order? " * 20)
    assert len("where is my order? " * 20) > labels.INLINE_CHARS
    assert where.threads[0] == loop and where.threads[1] != loop
    assert short.intent == long.intent


async def test_the_first_label_loads_the_models_on_a_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded_on: list[int] = []

    def loading(_embedder: object) -> FakeIntentClassifier:
        loaded_on.append(threading.get_ident())
        return FakeIntentClassifier(KEYWORDS)

    labels.use_models(None)
    monkeypatch.setattr("rapport.nlp.embeddings.shared_embedder", FakeEmbedder)
    monkeypatch.setattr("rapport.nlp.sentiment.load_sentiment", lambda _: FakeSentimentAnalyzer())
    monkeypatch.setattr(labels, "default_classifier", loading)
    monkeypatch.setattr(labels, "LangidDetector", lambda: FakeLanguageDetector("en"))
    await labels.label_message("hi")
    assert loaded_on and loaded_on[0] != threading.get_ident()
