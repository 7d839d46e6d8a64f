"""Our own sentiment training texts (bench/data/shop_sentiment.tsv) stay well formed: the
shipped heads are rebuilt from them, so a broken row would change the model silently."""

from __future__ import annotations

import csv

from tests.fixtures.shared_data import REPOSITORY

SHOP_SENTIMENT = REPOSITORY / "bench" / "data" / "shop_sentiment.tsv"


def rows() -> list[list[str]]:
    with SHOP_SENTIMENT.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_every_row_is_a_rating_on_vaders_scale_and_a_text() -> None:
    header, *body = rows()
    assert header == ["rating", "text"]
    assert len(body) == 1919  # bench/data/SOURCE.md and docs/assistant.md give this count
    for row in body:
        assert len(row) == 2, row
        rating, text = float(row[0]), row[1]
        assert -4.0 <= rating <= 4.0, row
        assert text == text.strip() and text and "\r" not in text, row


def test_no_text_twice_and_every_side_represented() -> None:
    body = rows()[1:]
    texts = [text.lower() for _, text in body]
    assert len(set(texts)) == len(texts)
    ratings = [float(rating) for rating, _ in body]
    positive = sum(rating > 0.3 for rating in ratings) / len(ratings)
    negative = sum(rating < -0.3 for rating in ratings) / len(ratings)
    assert 0.35 < positive < 0.45 and 0.35 < negative < 0.45  # about 40 % each, 19 % neutral
