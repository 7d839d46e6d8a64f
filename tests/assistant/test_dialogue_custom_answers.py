"""The dialogue with a custom intent's answer in hand (plain data, no database): it answers
and asks for anything else, asks no model, yet a pending yes, a request for a person and an
answer to the assistant's own question come first."""

from __future__ import annotations

from typing import Any

from rapport.assistant import replies
from rapport.assistant.dialogue import Context, CustomAnswer, Rules, consults_model, respond
from rapport.assistant.enums import HandoffReason
from rapport.assistant.state import DialogueState
from rapport.events.order_actions import OrderFacts
from rapport.support.assistant_desk import MessageLabels

ANSWER = "Gift wrap is free: tick it at checkout."
LABELS = MessageLabels("en", "gift_wrap", 0.8, "neutral", 0.0)


async def no_order(order_key: str, customer_id: str | None, email: str | None) -> None:
    return None


async def no_action(pending: dict[str, Any]) -> OrderFacts:
    raise AssertionError("no action may run")


def context(answer: str | None = ANSWER, hand_off: bool = False) -> Context:
    custom = CustomAnswer(answer, hand_off) if answer is not None else None
    return Context(Rules(0.6, -0.6, 0.5), False, None, [], no_order, no_action, custom)


async def test_the_custom_answer_is_given_then_anything_else() -> None:
    state = DialogueState()
    outcome = await respond(context(), state, "could you wrap it?", LABELS)
    assert (outcome.replies, outcome.answered, outcome.handoff) == ([ANSWER], True, None)
    assert state.awaiting == "anything_else"


def test_no_model_is_asked_for_a_message_with_a_custom_answer() -> None:
    assert consults_model(context(), DialogueState(), "could you wrap it?", LABELS) is False
    assert consults_model(context(None), DialogueState(), "could you wrap it?", LABELS) is True


async def test_asking_for_a_person_comes_first() -> None:
    outcome = await respond(context(), DialogueState(), "a human please, wrap it", LABELS)
    assert (outcome.replies, outcome.handoff) == (
        [replies.HANDING_OFF],
        HandoffReason.asked_for_human,
    )


async def test_an_answer_to_the_assistants_question_goes_on_with_the_task() -> None:
    state = DialogueState(task="order_status", awaiting="order_number")
    outcome = await respond(context(), state, "order 1234, and can you wrap it?", LABELS)
    assert outcome.replies == [replies.ASK_EMAIL]
    assert (state.order, state.awaiting) == ("1234", "email")


async def test_a_no_to_a_pending_action_is_not_answered_with_the_custom_answer() -> None:
    state = DialogueState(task="cancel_order", awaiting="confirmation")
    state.pending = {"kind": "cancel_order", "order": "1234", "address": None, "email": None}
    outcome = await respond(context(), state, "no", LABELS)
    assert outcome.replies == [replies.DECLINED]


async def test_an_intent_that_hands_off_gives_its_answer_and_hands_off() -> None:
    sales = "Our wholesale team will reply here shortly."
    outcome = await respond(context(sales, hand_off=True), DialogueState(), "bulk prices?", LABELS)
    assert (outcome.replies, outcome.handoff) == ([sales], HandoffReason.custom_intent)
