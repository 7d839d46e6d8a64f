"""The dialogue with a custom intent's answer in hand (plain data, no database): it answers
and asks for anything else, asks no model, yet a pending yes, a request for a person and an
answer to the assistant's own question come first. An intent that starts a task goes through
the order's verification and the customer's yes as the built-in intents' tasks do."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rapport.assistant import replies
from rapport.assistant.dialogue import (
    TASKS,
    Context,
    CustomAnswer,
    Rules,
    consults_model,
    respond,
)
from rapport.assistant.enums import ActionKind, HandoffReason
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


FACTS = OrderFacts(
    order_key="1234", status="completed", fulfillment_status="unfulfilled",
    total=Decimal("49.00"), currency="EUR", placed_at=datetime(2026, 12, 1, tzinfo=UTC),
    shipped_at=None, return_requested=False,
)  # fmt: skip


class Shop:
    """The customer's one order (1234), and the actions run on it."""

    def __init__(self) -> None:
        self.looked_up: list[tuple[str, str | None, str | None]] = []
        self.ran: list[dict[str, Any]] = []

    async def find(
        self, order_key: str, customer_id: str | None, email: str | None
    ) -> OrderFacts | None:
        self.looked_up.append((order_key, customer_id, email))
        return FACTS if order_key == "1234" and customer_id == "buyer" else None

    async def act(self, pending: dict[str, Any]) -> OrderFacts:
        self.ran.append(pending)
        return FACTS

    def context(self, custom: CustomAnswer) -> Context:
        rules = Rules(0.6, -0.6, 0.5)
        return Context(rules, False, "buyer", [], self.find, self.act, custom)


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
        [replies.ENGLISH.handing_off],
        HandoffReason.asked_for_human,
    )


async def test_an_answer_to_the_assistants_question_goes_on_with_the_task() -> None:
    state = DialogueState(task="order_status", awaiting="order_number")
    outcome = await respond(context(), state, "order 1234, and can you wrap it?", LABELS)
    assert outcome.replies == [replies.ENGLISH.ask_email]
    assert (state.order, state.awaiting) == ("1234", "email")


async def test_a_no_to_a_pending_action_is_not_answered_with_the_custom_answer() -> None:
    state = DialogueState(task="cancel_order", awaiting="confirmation")
    state.pending = {"kind": "cancel_order", "order": "1234", "address": None, "email": None}
    outcome = await respond(context(), state, "no", LABELS)
    assert outcome.replies == [replies.ENGLISH.declined]


async def test_an_intent_that_hands_off_gives_its_answer_and_hands_off() -> None:
    sales = "Our wholesale team will reply here shortly."
    outcome = await respond(context(sales, hand_off=True), DialogueState(), "bulk prices?", LABELS)
    assert (outcome.replies, outcome.handoff) == ([sales], HandoffReason.custom_intent)


def test_every_task_an_intent_may_start_is_one_the_dialogue_runs() -> None:
    assert set(TASKS) == {"order_status", *ActionKind}


async def test_an_intent_that_starts_a_task_asks_what_the_task_needs() -> None:
    state = DialogueState()
    parcel = CustomAnswer(None, task="order_status")
    outcome = await respond(Shop().context(parcel), state, "has my parcel left?", LABELS)
    assert (outcome.replies, outcome.handoff) == ([replies.ENGLISH.ask_order], None)
    assert (state.task, state.awaiting) == ("order_status", "order_number")


async def test_its_answer_comes_before_the_tasks_reply() -> None:
    shop, state = Shop(), DialogueState()
    parcel = CustomAnswer("Let me look.", task="order_status")
    outcome = await respond(shop.context(parcel), state, "has parcel 1234 left?", LABELS)
    assert outcome.replies == ["Let me look.", replies.ENGLISH.status(FACTS)]
    assert (outcome.action, shop.looked_up) == ("order_status", [("1234", "buyer", None)])


async def test_an_action_it_starts_waits_for_the_customers_yes() -> None:
    shop, state = Shop(), DialogueState()
    stop = shop.context(CustomAnswer(None, task="cancel_order"))
    outcome = await respond(stop, state, "stop parcel 1234 please", LABELS)
    assert outcome.replies == [replies.ENGLISH.confirm("cancel_order", FACTS, None)]
    assert (state.awaiting, shop.ran) == ("confirmation", [])
    plain = MessageLabels("en", "out_of_scope", 0.0, "neutral", 0.0)
    outcome = await respond(
        shop.context(CustomAnswer(None, task="cancel_order")), state, "yes", plain
    )
    assert (outcome.action, [pending["kind"] for pending in shop.ran]) == (
        "cancel_order",
        ["cancel_order"],
    )


async def test_an_order_it_cannot_verify_is_not_shown() -> None:
    shop, state = Shop(), DialogueState()
    parcel = CustomAnswer(None, task="order_status")
    outcome = await respond(shop.context(parcel), state, "has parcel 9999 left?", LABELS)
    assert outcome.replies == [replies.ENGLISH.ask_email]
    assert outcome.action is None and state.awaiting == "email"


def test_no_model_is_asked_for_a_message_that_starts_a_custom_task() -> None:
    parcel = Shop().context(CustomAnswer(None, task="order_status"))
    assert consults_model(parcel, DialogueState(), "has my parcel left?", LABELS) is False
