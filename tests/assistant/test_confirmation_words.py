"""What counts as the customer's "yes" before an action runs: a plain confirmation, however
cased or punctuated, and nothing that asks, hedges or says more; what declines; and what
says the customer needs nothing more."""

from __future__ import annotations

import pytest

from rapport.assistant.state import declines, is_done, is_no, is_yes


@pytest.mark.parametrize("text", ["yes", "Yes.", "YES!!!", " ok ", "go ahead", "oui", "Sí"])
def test_a_plain_confirmation_is_a_yes(text: str) -> None:
    assert is_yes(text)


@pytest.mark.parametrize(
    "text", ["yes?", "sure?", "ok ?", "¿sí?", "yes\uff1f", "yes but no", "yess", "maybe", ""]
)
def test_a_question_or_anything_more_is_not(text: str) -> None:
    assert not is_yes(text)


def test_a_no_is_still_a_no_when_asked() -> None:
    assert is_no("no?") and is_no("No.")


@pytest.mark.parametrize(
    "text", ["no", "No, don't cancel it", "nope, keep it!", "Don't do that", "do not cancel"]
)
def test_an_answer_that_starts_with_a_no_declines(text: str) -> None:
    assert declines(text)


@pytest.mark.parametrize("text", ["yes", "now please", "nothing", "not sure", "know what, ok", ""])
def test_other_answers_do_not_decline(text: str) -> None:
    assert not declines(text)


@pytest.mark.parametrize(
    "text",
    ["thanks", "Thanks, that's all!", "ok great, thank you so much", "no that's everything, bye",
     "All good, cheers", "no"],
)  # fmt: skip
def test_a_farewell_made_of_thanks_and_fillers_is_done(text: str) -> None:
    assert is_done(text)


@pytest.mark.parametrize(
    "text",
    ["ok", "great", "is that all?", "thanks, but where is my order", "cancel all", ""],
)
def test_a_question_or_a_new_request_is_not(text: str) -> None:
    assert not is_done(text)
