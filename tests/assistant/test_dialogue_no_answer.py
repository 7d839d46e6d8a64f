"""A message the assistant understood but has nothing for (no task, no article: an account,
a review, a payment problem) goes to people at once with a reply that says so; a message it
did not understand is still clarified once first; a "no, don't cancel" to a pending question
declines it (plain data, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from rapport.assistant import replies
from rapport.assistant.dialogue import Context, Rules, respond
from rapport.assistant.enums import HandoffReason
from rapport.assistant.state import DialogueState
from rapport.events.order_actions import OrderFacts
from rapport.support.assistant_desk import MessageLabels

RULES = Rules(0.6, -0.6, 0.5)


@dataclass(frozen=True)
class Article:
    title: str
    snippet: str
    url: str
    score: float


async def no_order(order_key: str, customer_id: str | None, email: str | None) -> None:
    return None


async def no_action(pending: dict[str, Any]) -> OrderFacts:
    raise AssertionError("no action may run")


def context(*hits: Article) -> Context:
    return Context(RULES, False, None, list(hits), no_order, no_action)


def labels(intent: str, confidence: float) -> MessageLabels:
    return MessageLabels("en", intent, confidence, "neutral", 0.0)


@pytest.mark.parametrize(
    "intent", ["recover_password", "review", "payment_issue", "delete_account", "place_order"]
)
async def test_understood_with_nothing_to_offer_goes_to_people_at_once(intent: str) -> None:
    state = DialogueState()
    outcome = await respond(context(), state, "forgot my password", labels(intent, 0.93))
    assert (outcome.handoff, outcome.replies) == (
        HandoffReason.no_answer,
        [replies.ENGLISH.not_mine],
    )
    assert (state.clarified, state.out_of_scope) == (False, 0)


@pytest.mark.parametrize(("intent", "confidence"), [("out_of_scope", 0.97), ("review", 0.59)])
async def test_not_understood_is_clarified_once_then_handed_off(
    intent: str, confidence: float
) -> None:
    state = DialogueState()
    first = await respond(context(), state, "hmm", labels(intent, confidence))
    second = await respond(context(), state, "hmm hmm", labels(intent, confidence))
    reason = (
        HandoffReason.out_of_scope if intent == "out_of_scope" else HandoffReason.low_confidence
    )
    assert (first.handoff, first.replies) == (None, [replies.ENGLISH.clarify])
    assert (second.handoff, second.replies) == (reason, [replies.ENGLISH.handing_off])


async def test_an_article_that_answers_still_comes_first() -> None:
    article = Article("Payment", "We take cards and bank transfers.", "/help/payment", 0.8)
    outcome = await respond(
        context(article), DialogueState(), "card?", labels("payment_issue", 0.9)
    )
    assert (outcome.handoff, outcome.answered) == (None, True)
    assert "We take cards" in outcome.replies[0]


async def test_a_no_that_names_the_action_declines_it() -> None:
    # The model reads "don't cancel" as a cancellation: the answer's "no" decides.
    state = DialogueState(awaiting="confirmation", task="cancel_order", order="1234")
    state.pending = {"kind": "cancel_order", "order": "1234"}
    said = labels("cancel_order", 0.96)
    outcome = await respond(context(), state, "No, don't cancel it", said)
    assert (outcome.handoff, outcome.replies) == (None, [replies.ENGLISH.declined])
    assert (state.task, state.pending, state.awaiting) == (None, None, "anything_else")
