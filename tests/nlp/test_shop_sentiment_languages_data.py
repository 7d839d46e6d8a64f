"""Our French, German and Spanish shop texts for sentiment (bench/data/
shop_sentiment_multilingual*) stay well formed: the other-language heads are rebuilt from the
training file and judged on the held-out one, so a broken row would change either silently."""

from __future__ import annotations

import csv
from collections import Counter

from tests.fixtures.shared_data import REPOSITORY

DATA = REPOSITORY / "bench" / "data"
LANGUAGES = {"fr", "de", "es"}


def test_every_training_row_is_a_rating_a_language_and_a_text() -> None:
    with (DATA / "shop_sentiment_multilingual.tsv").open(encoding="utf-8", newline="") as f:
        header, *body = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert header == ["rating", "language", "text"]
    for rating, language, text in body:
        assert -4.0 <= float(rating) <= 4.0 and language in LANGUAGES, text
        assert text == text.strip() and text and "\r" not in text
    assert Counter(language for _, language, _ in body) == {"fr": 400, "de": 400, "es": 400}
    texts = [text.lower() for _, _, text in body]
    assert len(set(texts)) == len(texts)


def test_the_held_out_texts_are_balanced_and_labelled() -> None:
    with (DATA / "shop_sentiment_multilingual_test.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    counts = Counter((row["language"], row["label"]) for row in rows)
    expected = {"negative": 45, "positive": 45, "neutral": 30}
    assert counts == {(lang, label): n for lang in LANGUAGES for label, n in expected.items()}
    texts = [row["text"].lower() for row in rows]
    assert len(set(texts)) == len(texts) and all(text.strip() for text in texts)
