"""Intents defined by examples: the nearest example decides, a floor keeps far texts out, and
the leave-one-out report counts each example's fate."""

from __future__ import annotations

import numpy as np
import pytest

from rapport.nlp.examples import ExampleIndex, ExampleMatch, leave_one_out
from rapport.nlp.ports import Embedder


def unit(*values: float) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def test_the_nearest_example_decides() -> None:
    index = ExampleIndex(["hours", "wrap"], np.stack([unit(1, 0, 0), unit(0, 1, 0)]))
    assert index.match(unit(0.2, 0.9, 0), min_similarity=0.5) == ExampleMatch(
        "wrap", pytest.approx(0.9 / np.hypot(0.2, 0.9))
    )


def test_a_text_far_from_every_example_matches_nothing() -> None:
    index = ExampleIndex(["hours"], np.stack([unit(1, 0, 0)]))
    assert index.match(unit(0.6, 0.8, 0), min_similarity=0.7) is None
    assert index.match(unit(0.6, 0.8, 0), min_similarity=0.6) == ExampleMatch(
        "hours", pytest.approx(0.6)
    )


def test_vectors_are_compared_by_direction_not_length() -> None:
    index = ExampleIndex(["hours"], np.stack([unit(3, 0, 0)]))
    assert index.match(unit(0.5, 0, 0)) == ExampleMatch("hours", pytest.approx(1.0))


def test_a_zero_vector_or_no_example_matches_nothing() -> None:
    assert ExampleIndex(["hours"], np.stack([unit(1, 0)])).match(unit(0, 0)) is None
    assert ExampleIndex([], np.zeros((0, 2), dtype=np.float32)).match(unit(1, 0)) is None


def test_leave_one_out_counts_matched_unmatched_and_confused() -> None:
    labels = ["hours", "hours", "hours", "wrap", "wrap"]
    vectors = np.stack(
        [
            unit(1, 0, 0),
            unit(0.95, -0.31, 0),  # near the first hours example
            unit(0, 0, 1),  # near nothing
            unit(0.9, 0.43, 0),  # nearer the first hours example than the other wrap one
            unit(0, 1, 0),
        ]
    )
    report = {row.label: row for row in leave_one_out(ExampleIndex(labels, vectors), 0.7)}
    assert (report["hours"].examples, report["hours"].matched) == (3, 2)
    assert (report["hours"].unmatched, report["hours"].confused_with) == (1, {})
    assert (report["wrap"].examples, report["wrap"].matched) == (2, 0)
    assert (report["wrap"].unmatched, report["wrap"].confused_with) == (1, {"hours": 1})


def test_a_lone_example_is_unmatched() -> None:
    [row] = leave_one_out(ExampleIndex(["hours"], np.stack([unit(1, 0)])))
    assert (row.examples, row.matched, row.unmatched, row.confused_with) == (1, 0, 1, {})


def test_minilm_matches_paraphrases_and_not_other_questions(minilm: Embedder) -> None:
    hours = ["What are your opening hours?", "When does the shop open?", "What time do you open?"]
    wrap = ["Do you offer gift wrapping?", "Can you gift wrap my order?"]
    index = ExampleIndex(["hours"] * 3 + ["wrap"] * 2, minilm.embed(hours + wrap))
    questions = ["when are you open", "can you wrap it as a present", "where is my order"]
    found = [index.match(vector) for vector in minilm.embed(questions)]
    assert [match.label if match else None for match in found] == ["hours", "wrap", None]
