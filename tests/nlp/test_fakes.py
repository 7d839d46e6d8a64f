"""Each port's fake is deterministic."""

from __future__ import annotations

import numpy as np

from rapport.nlp.fakes import (
    FakeEmbedder,
    FakeIntentClassifier,
    FakeLanguageDetector,
    FakeSentimentAnalyzer,
)
from rapport.nlp.ports import IntentPrediction, LanguageResult, SentimentResult


def test_fake_embedder_gives_the_same_unit_vectors_every_time() -> None:
    first = FakeEmbedder().embed(["where is my order", "hello"])
    second = FakeEmbedder().embed(["where is my order", "hello"])
    assert first.shape == (2, 64)
    assert np.array_equal(first, second)
    assert np.allclose(np.linalg.norm(first, axis=1), [1.0, 1.0])


def test_fake_intent_classifier_matches_keywords() -> None:
    classifier = FakeIntentClassifier({"refund": "get_refund", "track": "track_order"})
    assert classifier.labels == ["get_refund", "track_order"]
    assert classifier.predict(["Track my parcel", "sing a song"]) == [
        IntentPrediction("track_order", 1.0, False),
        IntentPrediction("out_of_scope", 0.0, True),
    ]


def test_fake_sentiment_counts_words() -> None:
    assert FakeSentimentAnalyzer().analyze(["great thanks", "terrible", "ok then"]) == [
        SentimentResult("positive", 1.0),
        SentimentResult("negative", -1.0),
        SentimentResult("neutral", 0.0),
    ]


def test_fake_language_detector_answers_its_language() -> None:
    assert FakeLanguageDetector("de").detect("hello") == LanguageResult("de", 1.0)
