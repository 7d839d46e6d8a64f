"""The labelling models: one embedding per message for both heads; cleaning what they read;
the language told only when the detector is sure enough, no English intent for another."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from rapport.assistant.labels import MAX_MODEL_CHARS, Models, clean, label_text, use_models
from rapport.nlp.embeddings import RememberingEmbedder
from rapport.nlp.fakes import (
    FakeEmbedder,
    FakeIntentClassifier,
    FakeSentimentAnalyzer,
)
from rapport.nlp.language import LangidDetector
from rapport.nlp.ports import Vectors
from tests.fixtures.assistant import use_fakes


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


@pytest.fixture
def real_language() -> Iterator[None]:
    """The fake intents and sentiment, the real language detector."""
    intents = FakeIntentClassifier({"commande": "track_order", "order": "track_order"})
    use_models(Models(intents, FakeSentimentAnalyzer(), LangidDetector()))
    yield
    use_fakes()


@pytest.mark.usefixtures("real_language")
def test_a_language_the_detector_is_unsure_of_is_not_told() -> None:
    assert [label_text(text).language for text in ("ok", "yes", "hola")] == ["und"] * 3
    assert label_text("Where is my order? It should have come on Monday.").language == "en"


@pytest.mark.usefixtures("real_language")
def test_a_message_surely_in_another_language_gets_no_english_intent() -> None:
    french = label_text("Où en est ma commande ? Je l'attends depuis lundi.")
    english = label_text("Where is my order? It should have come on Monday.")
    unsure = label_text("annuler ma commande")  # French, the detector 54 % sure

    assert (french.language, french.intent) == ("fr", "out_of_scope")
    assert (english.language, english.intent) == ("en", "track_order")
    assert (unsure.language, unsure.intent) == ("fr", "track_order")
