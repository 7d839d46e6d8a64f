"""The shipped sentiment model: clear sentences get their label, scores stay in [-1, 1]."""

from __future__ import annotations

import pytest

from rapport.nlp.embeddings import HASHING_NAME, MINILM_NAME
from rapport.nlp.ports import Embedder
from rapport.nlp.sentiment import LinearSentimentAnalyzer, label_for, load_sentiment

CLEAR = [
    ("I love this phone, the battery lasts forever and the screen is gorgeous.", "positive"),
    ("Thank you so much, your support team was wonderful!", "positive"),
    ("This is the worst purchase I have ever made, it broke after two days.", "negative"),
    ("Terrible service, nobody answered my emails and I am furious.", "negative"),
]


@pytest.fixture(scope="module")
def analyzer(minilm: Embedder) -> LinearSentimentAnalyzer:
    return load_sentiment(minilm)


def test_clear_sentences_get_their_label(analyzer: LinearSentimentAnalyzer) -> None:
    results = analyzer.analyze([text for text, _ in CLEAR])
    assert analyzer.name == MINILM_NAME
    assert [result.label for result in results] == [label for _, label in CLEAR]
    assert all(-1.0 <= result.score <= 1.0 for result in results)
    assert results[0].score > 0 > results[2].score


def test_without_the_embedder_the_ngram_head_answers() -> None:
    analyzer = load_sentiment(None)
    results = analyzer.analyze(["I love it, wonderful!", "awful, terrible, I hate it"])
    assert analyzer.name == HASHING_NAME
    assert [result.label for result in results] == ["positive", "negative"]


def test_the_neutral_band_decides_between_labels() -> None:
    assert [label_for(value, 0.5) for value in (0.6, 0.5, -0.4, -0.7)] == [
        "positive",
        "neutral",
        "neutral",
        "negative",
    ]


def test_no_texts_give_no_results(analyzer: LinearSentimentAnalyzer) -> None:
    assert analyzer.analyze([]) == []
