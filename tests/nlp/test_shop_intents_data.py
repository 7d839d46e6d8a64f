"""Our written shop messages for intents (bench/data/shop_intents_*.tsv) stay well formed: the
shipped intent model is rebuilt from the training file and judged on the held-out one, so a
broken row or a stray label would change either silently."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from rapport.nlp.intents import OUT_OF_SCOPE, default_labels
from tests.fixtures.shared_data import REPOSITORY

DATA = REPOSITORY / "bench" / "data"
# Rows per intent and out-of-scope rows, as bench/data/SOURCE.md gives them.
FILES = {"shop_intents_train.tsv": (40, 120), "shop_intents_test.tsv": (20, 80)}
# Rows added to a file later (SOURCE.md: "Added 2026-12-08", what shipping and returns cost).
ADDED = {"shop_intents_train.tsv": {"delivery_options": 6, "check_refund_policy": 2}}


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_row_is_a_known_intent_and_a_text(name: str) -> None:
    header, *body = rows(DATA / name)
    per_intent, out_of_scope = FILES[name]
    assert header == ["label", "text"]
    for row in body:
        assert len(row) == 2, row
        assert row[1] == row[1].strip() and row[1] and "\r" not in row[1], row
    counts = Counter(label for label, _ in body)
    intents = default_labels() - {OUT_OF_SCOPE}
    assert counts.pop(OUT_OF_SCOPE) == out_of_scope
    assert counts == {intent: per_intent + ADDED.get(name, {}).get(intent, 0) for intent in intents}


@pytest.mark.parametrize("name", sorted(FILES))
def test_no_text_twice_in_a_file(name: str) -> None:
    texts = [text.lower() for _, text in rows(DATA / name)[1:]]
    assert len(set(texts)) == len(texts)
