"""Survey comments' labels: a comment that declines to comment carries no opinion."""

from __future__ import annotations

import pytest

from rapport.feedback.text import analyzer, label_texts, says_nothing
from rapport.nlp.embeddings import shared_embedder
from rapport.nlp.sentiment import LinearSentimentAnalyzer


def test_comments_are_read_by_the_head_messages_are_read_by() -> None:
    # The MiniLM head (the n-gram one only where MiniLM is missing), not the n-gram head as
    # until 2026-12-07: it reads reviews better (docs/assistant.md).
    read = analyzer()
    assert isinstance(read, LinearSentimentAnalyzer)
    assert read.name == shared_embedder().name


@pytest.mark.parametrize(
    "comment",
    ["No comment", "none", "None.", "N/A", "n/a", "Nothing to add.", "nothing", "no", "-", ".",
     "???", "I don't know", "Rien à signaler", "rien", "nichts", "Keine Angabe", "k.A.",
     "Nada que añadir", "sin comentarios", "  NOTHING!!  ", "nein danke", "I don\u2019t know",
     "no se\u0301", "—"],
)  # fmt: skip
def test_a_comment_that_says_nothing_is_neutral(comment: str) -> None:
    assert says_nothing(comment)
    [labels] = label_texts([comment])
    assert (labels.label, labels.score, labels.topics) == ("neutral", 0.0, [])


@pytest.mark.parametrize(
    "comment",
    ["No, the parcel came late", "Nothing arrived", "none of the sizes fit", "no complaints",
     "Nothing works", "Rien ne marche", ":(", "👎", "😍😍", "nothing to add :("],
)  # fmt: skip
def test_a_comment_with_more_to_say_is_read_by_the_model(comment: str) -> None:
    assert not says_nothing(comment)


def test_emoji_and_emoticons_keep_their_feeling() -> None:
    labels = label_texts([":(", "😡😡😡", ":)", "😍😍", "nothing to add :("])
    assert [label.label for label in labels] == [
        "negative", "negative", "positive", "positive", "negative",
    ]  # fmt: skip


def test_non_answers_among_comments_keep_every_comment_in_its_place() -> None:
    comments = [
        "none",
        "Terrible, nobody answered and I am furious.",
        "n/a",
        "Fast delivery and lovely packaging, thank you!",
    ]
    labels = label_texts(comments)
    assert [label.label for label in labels] == ["neutral", "negative", "neutral", "positive"]
    assert labels[1].score < 0 < labels[3].score
    assert labels[1].topics == ["support"] and labels[3].topics == ["delivery", "speed"]
    assert label_texts(["-", "none"]) == label_texts(["nothing"]) * 2
