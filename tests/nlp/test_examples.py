"""Intents defined by examples: a text takes the intent it is most similar to (the mean of its
cosines to the nearest example and to the centroid) when it reaches that intent's floor, and
the leave-one-out report counts each example's fate."""

from __future__ import annotations

import numpy as np
import pytest

from rapport.nlp import examples
from rapport.nlp.examples import ExampleIndex, ExampleMatch, leave_one_out
from rapport.nlp.ports import Embedder


def unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_similarity_is_the_mean_of_the_nearest_and_the_centroid_cosines() -> None:
    a, b = unit(1, 0, 0), unit(0, 1, 0)
    index = ExampleIndex(["hours", "hours"], np.stack([a, b]))
    # Nearest example: a (cosine 1); centroid (a + b) / sqrt 2: cosine 1 / sqrt 2.
    assert index.similarities(a) == pytest.approx([(1 + 2**-0.5) / 2])


def test_the_most_similar_intent_is_matched_if_it_reaches_the_floor() -> None:
    index = ExampleIndex(["wrap", "hours"], np.stack([unit(0, 1, 0), unit(1, 0, 0)]))
    text = unit(0.2, 0.9, 0)
    assert index.match(text, min_similarity=0.9) == ExampleMatch(
        "wrap", pytest.approx(0.9762, 1e-3)
    )
    assert index.match(text, min_similarity=0.98) is None


def test_an_intents_own_floor_overrides_the_default() -> None:
    index = ExampleIndex(["hours"], np.stack([unit(1, 0, 0)]))
    text = unit(0.6, 0.8, 0)
    assert index.match(text, min_similarity=0.7) is None
    assert index.match(text, min_similarity=0.7, floors={"hours": 0.55}) == ExampleMatch(
        "hours", pytest.approx(0.6)
    )
    assert index.match(text, min_similarity=0.5, floors={"hours": 0.65}) is None


def test_vectors_are_compared_by_direction_not_length() -> None:
    index = ExampleIndex(["hours"], np.stack([np.asarray([3, 0], dtype=np.float32)]))
    assert index.match(np.asarray([0.5, 0], dtype=np.float32)) == ExampleMatch(
        "hours", pytest.approx(1.0)
    )


def test_a_zero_vector_or_no_example_matches_nothing() -> None:
    assert ExampleIndex(["hours"], np.stack([unit(1, 0)])).match(np.zeros(2)) is None
    assert ExampleIndex([], np.zeros((0, 2), dtype=np.float32)).match(unit(1, 0)) is None


def test_labels_and_vectors_must_pair_up() -> None:
    with pytest.raises(ValueError, match="2 labels for 1 vectors"):
        ExampleIndex(["hours", "wrap"], np.stack([unit(1, 0)]))


def test_leave_one_out_counts_matched_unmatched_and_confused() -> None:
    labels = ["hours", "wrap", "hours", "hours", "wrap"]  # any order
    vectors = np.stack(
        [
            unit(1, 0, 0),
            unit(0.9, 0.43, 0),  # nearer the hours examples than the other wrap one
            unit(0.95, -0.31, 0),
            unit(0, 0, 1),  # near nothing
            unit(0, 1, 0),
        ]
    )
    report = {row.label: row for row in leave_one_out(ExampleIndex(labels, vectors), 0.7)}
    assert (report["hours"].examples, report["hours"].matched) == (3, 2)
    assert (report["hours"].unmatched, report["hours"].confused_with) == (1, {})
    assert (report["wrap"].examples, report["wrap"].matched) == (2, 0)
    assert (report["wrap"].unmatched, report["wrap"].confused_with) == (1, {"hours": 1})


def test_leave_one_out_takes_each_example_out_of_its_centroid() -> None:
    # Two identical examples: each, left out, finds the other (nearest 1, centroid 1).
    index = ExampleIndex(["hours", "hours"], np.stack([unit(1, 0), unit(1, 0)]))
    [row] = leave_one_out(index, min_similarity=0.999)
    assert (row.matched, row.unmatched) == (2, 0)


def test_a_lone_example_is_unmatched_and_floors_apply_per_intent() -> None:
    [row] = leave_one_out(ExampleIndex(["hours"], np.stack([unit(1, 0)])))
    assert (row.examples, row.matched, row.unmatched, row.confused_with) == (1, 0, 1, {})
    index = ExampleIndex(["hours", "hours"], np.stack([unit(1, 0), unit(0.8, 0.6)]))
    assert leave_one_out(index, floors={"hours": 0.81})[0].unmatched == 2
    assert leave_one_out(index, floors={"hours": 0.79})[0].matched == 2


def test_minilm_matches_paraphrases_and_not_other_questions(minilm: Embedder) -> None:
    hours = ["What are your opening hours?", "When does the shop open?", "What time do you open?"]
    wrap = ["Do you offer gift wrapping?", "Can you gift wrap my order?"]
    index = ExampleIndex(["hours"] * 3 + ["wrap"] * 2, minilm.embed(hours + wrap))
    questions = ["when are you open", "can you wrap it as a present", "where is my order"]
    found = [index.match(vector) for vector in minilm.embed(questions)]
    assert [match.label if match else None for match in found] == ["hours", "wrap", None]


def test_the_report_is_the_same_whatever_the_block_of_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    generator = np.random.default_rng(7)
    labels = [f"intent_{number % 4}" for number in range(23)]
    vectors = generator.normal(size=(23, 8)).astype(np.float32)
    whole = leave_one_out(ExampleIndex(labels, vectors), 0.2)
    monkeypatch.setattr(examples, "BLOCK", 3)
    assert leave_one_out(ExampleIndex(labels, vectors), 0.2) == whole
    assert sum(row.matched + row.unmatched + sum(row.confused_with.values()) for row in whole) == 23


def test_each_group_of_an_intent_is_matched_on_its_own() -> None:
    english = [unit(1, 0.1, 0), unit(1, -0.1, 0), unit(1, 0, 0.1)]
    french = unit(0, 0, 1)
    vectors = np.stack([*english, french])
    one = ExampleIndex(["wrap"] * 4, vectors)
    grouped = ExampleIndex(["wrap"] * 4, vectors, groups=["", "", "", "fr"])
    # Alone, the French example's centroid is mostly English: a French message falls short.
    assert one.similarities(french)[0] < 0.8
    assert grouped.similarities(french) == pytest.approx([1.0])
    # English messages read the English group as before.
    assert grouped.similarities(unit(1, 0, 0)) == pytest.approx(
        ExampleIndex(["wrap"] * 3, np.stack(english)).similarities(unit(1, 0, 0))
    )
    assert len(grouped.vectors_of("wrap")) == 4
    assert grouped.vectors_of("wrap")[3] == pytest.approx(french)


def test_leave_one_out_with_groups_lets_a_lone_example_find_its_intent_elsewhere() -> None:
    close = [unit(1, 0.05, 0), unit(1, -0.05, 0), unit(1, 0, 0.05), unit(1, 0.02, 0.02)]
    index = ExampleIndex(["wrap"] * 4, np.stack(close), groups=["", "", "", "fr"])
    # The lone "fr" example has nothing left in its group; the main group still takes it.
    [row] = leave_one_out(index, min_similarity=0.9)
    assert (row.matched, row.unmatched) == (4, 0)
    index = ExampleIndex(["wrap"] * 2, np.stack(close[:2]), groups=["", "fr"])
    [row] = leave_one_out(index, min_similarity=0.9)
    assert (row.matched, row.unmatched) == (2, 0)
    apart = ExampleIndex(["wrap"] * 2, np.stack([unit(1, 0, 0), unit(0, 1, 0)]), groups=["", "fr"])
    [row] = leave_one_out(apart, min_similarity=0.5)
    assert (row.matched, row.unmatched) == (0, 2)


def test_groups_and_labels_must_pair_up() -> None:
    with pytest.raises(ValueError, match="1 groups for 2 labels"):
        ExampleIndex(["hours", "wrap"], np.stack([unit(1, 0), unit(0, 1)]), groups=["en"])
