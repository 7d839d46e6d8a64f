"""One turn of the dialogue: hand-off rules, confirmation of a pending action, slot filling,
verification, the workspace's own answers, the knowledge base, and clarifying once. Every
action waits for a "yes".

A generative model's draft (generative.py) only stands in where the rules would answer from
an article, ask to rephrase or hand off for want of an answer: its text is the answer, its
tool call starts a task through the same verification and confirmation, and its silence
leaves the turn to the rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, get_args

from rapport.assistant import replies
from rapport.assistant.enums import ActionKind, HandoffReason
from rapport.assistant.state import (
    DialogueState,
    Outcome,
    asks_for_human,
    declines,
    email_address,
    is_done,
    is_yes,
    order_number,
)
from rapport.events.order_actions import OrderActionRefused, OrderFacts
from rapport.support.assistant_desk import MessageLabels

ORDER_STATUS = "order_status"
# The tasks a turn can start, each through the order's verification, and the actions through
# the customer's "yes": started by the shipped intents below, the generative model's tools
# and the workspace's own intents.
TaskName = Literal[
    "order_status", "cancel_order", "change_address", "request_return", "resend_invoice"
]
TASKS: tuple[str, ...] = get_args(TaskName)
TASK_OF_INTENT = {
    "track_order": ORDER_STATUS,
    "cancel_order": ActionKind.cancel_order,
    "change_shipping_address": ActionKind.change_address,
    "set_up_shipping_address": ActionKind.change_address,
    "get_refund": ActionKind.request_return,
    "get_invoice": ActionKind.resend_invoice,
    "check_invoice": ActionKind.resend_invoice,
}
HUMAN_INTENTS = frozenset({"contact_human_agent", "contact_customer_service"})
COMPLAINT = "complaint"
# The shipped intents a confident label acts on: a task started, or a hand-off.
ACTING_INTENTS = frozenset({*TASK_OF_INTENT, *HUMAN_INTENTS, COMPLAINT})
MAX_FAILED_CHECKS = 2
MAX_ADDRESS = 300


class Hit(Protocol):
    """A knowledge-base article found for a question."""

    @property
    def title(self) -> str: ...

    @property
    def snippet(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def score(self) -> float: ...


@dataclass(frozen=True)
class Rules:
    """The channel's hand-off rules."""

    confidence_threshold: float
    negative_sentiment_threshold: float
    knowledge_threshold: float


@dataclass(frozen=True)
class Draft:
    """What a generative model proposed for a turn, already checked by our code: an answer,
    or a task (order_status or an ActionKind) with the order it names, if one it may name."""

    reply: str | None = None
    task: str | None = None
    order: str | None = None
    turn: int = 0  # the dialogue's turn count it was drafted at: a later turn drops it


@dataclass(frozen=True)
class CustomAnswer:
    """What the workspace's own intent does with a message that matched it: its answer, then
    a hand-off, or a task (TASKS) started as the shipped intents start theirs."""

    text: str | None
    hand_off: bool = False
    task: str | None = None
    intent_id: str | None = None  # which intent it is (its messages are counted)


@dataclass(frozen=True)
class Context:
    """What a turn may look at and do, given by the caller (the database or a fake)."""

    rules: Rules
    vip: bool
    customer_id: str | None
    hits: Sequence[Hit]
    find_order: Callable[[str, str | None, str | None], Awaitable[OrderFacts | None]]
    run_action: Callable[[dict[str, Any]], Awaitable[OrderFacts]]
    # The workspace's own answer, when the message matched one of its custom intents.
    custom_answer: CustomAnswer | None = None
    # Whether someone of the workspace is at the console now (asked only on a hand-off).
    agents_online: Callable[[], Awaitable[bool]] | None = None


async def respond(
    context: Context,
    state: DialogueState,
    text: str,
    labels: MessageLabels,
    draft: Draft | None = None,
) -> Outcome:
    """Decide what the assistant does with one customer message (mutating `state`), said in
    the last language the assistant speaks that the customer wrote in."""
    if labels.language in replies.SPOKEN:
        state.language = labels.language
    say = replies.phrases(state.language)
    if state.awaiting == "confirmation":
        pending, state.pending, state.awaiting = state.pending, None, None
        if pending is not None and is_yes(text):
            return await _execute(context, state, pending)
        if declines(text):
            state.finish_task()
            return Outcome().say(say.declined)
    handoff = _handoff_rule(context, text, labels)
    if handoff is not None:
        return Outcome(handoff=handoff).say(await _passing_on(context, say))
    if state.awaiting == "anything_else" and is_done(text):
        state.awaiting = None
        return Outcome(resolve=True).say(say.goodbye)
    _fill_slots(state, text)
    if state.task is None or not _answers_a_question(state, text):
        if context.custom_answer is not None:
            return await _custom(context, state, context.custom_answer)
        task = TASK_OF_INTENT.get(labels.intent)
        if task is not None and _confident(context, labels):
            state.task = str(task)
        elif draft is not None and (draft.reply or draft.task):
            return await _follow(context, state, draft)
        else:
            return await _answer_or_clarify(context, state, labels)
    return await _progress(context, state)


def consults_model(
    context: Context, state: DialogueState, text: str, labels: MessageLabels
) -> bool:
    """Tell whether `respond` would use a draft for this message (the rules would answer from
    an article, ask to rephrase or hand off for want of an answer), without changing
    `state`: no model is asked otherwise."""
    probe = DialogueState.load(state.dump())
    if probe.awaiting == "confirmation":
        pending, probe.pending, probe.awaiting = probe.pending, None, None
        if (pending is not None and is_yes(text)) or declines(text):
            return False
    if _handoff_rule(context, text, labels) is not None:
        return False
    if probe.awaiting == "anything_else" and is_done(text):
        return False
    _fill_slots(probe, text)
    if probe.task is not None and _answers_a_question(probe, text):
        return False
    if context.custom_answer is not None:
        return False
    task = TASK_OF_INTENT.get(labels.intent)
    return task is None or not _confident(context, labels)


async def _custom(context: Context, state: DialogueState, answer: CustomAnswer) -> Outcome:
    """Give the workspace's own answer; then start its task, hand off, or ask for anything
    else."""
    if answer.task is not None:
        state.task = answer.task
        outcome = await _progress(context, state)
        if answer.text:
            outcome.replies.insert(0, answer.text)
        return outcome
    text = answer.text or ""
    if answer.hand_off:
        return Outcome(handoff=HandoffReason.custom_intent).say(text)
    state.awaiting, state.clarified = "anything_else", False
    return Outcome(answered=True).say(text)


async def _follow(context: Context, state: DialogueState, draft: Draft) -> Outcome:
    """Use the model's draft: a task goes through verification and confirmation as the rules'
    tasks do; an answer is given like an article's."""
    if draft.task is not None:
        state.task = draft.task
        if draft.order is not None:
            state.order = draft.order
        return await _progress(context, state)
    state.awaiting, state.clarified = "anything_else", False
    anything_else = replies.phrases(state.language).anything_else
    return Outcome(answered=True).say(f"{draft.reply or ''}\n{anything_else}")


def _handoff_rule(context: Context, text: str, labels: MessageLabels) -> HandoffReason | None:
    if asks_for_human(text) or (labels.intent in HUMAN_INTENTS and _confident(context, labels)):
        return HandoffReason.asked_for_human
    if labels.sentiment_score <= context.rules.negative_sentiment_threshold:
        return HandoffReason.negative_sentiment
    if context.vip:
        return HandoffReason.vip_customer
    if labels.intent == COMPLAINT and _confident(context, labels):
        return HandoffReason.complaint
    return None


def _confident(context: Context, labels: MessageLabels) -> bool:
    return (
        labels.intent != "out_of_scope"
        and labels.intent_confidence >= context.rules.confidence_threshold
    )


def _fill_slots(state: DialogueState, text: str) -> None:
    if state.awaiting == "address":  # an address has numbers that are no order number
        if any(character.isalpha() for character in text):
            state.address = " ".join(text.split())[:MAX_ADDRESS]
        return
    email = email_address(text)
    number = order_number(text)
    if email is not None:
        state.email = email
    if number is not None:
        state.order = number


def _answers_a_question(state: DialogueState, text: str) -> bool:
    """Tell whether the message fills the slot the assistant asked for."""
    if state.awaiting == "order_number":
        return order_number(text) is not None
    if state.awaiting == "email":
        return email_address(text) is not None
    return state.awaiting == "address" and state.address is not None


async def _passing_on(context: Context, say: replies.Phrases, *, not_mine: bool = False) -> str:
    """The hand-off's words: a colleague replies here shortly, or, with nobody at the console
    now, as soon as they are back (no promise the night cannot keep)."""
    online = context.agents_online is None or await context.agents_online()
    if not_mine:
        return say.not_mine if online else say.not_mine_later
    return say.handing_off if online else say.handing_off_later


async def _answer_or_clarify(
    context: Context, state: DialogueState, labels: MessageLabels
) -> Outcome:
    say = replies.phrases(state.language)
    best = max(context.hits, key=lambda hit: hit.score, default=None)
    if best is not None and best.score >= context.rules.knowledge_threshold:
        state.awaiting, state.clarified = "anything_else", False
        return Outcome(answered=True).say(say.article(best.title, best.snippet, best.url))
    if _confident(context, labels):
        # Understood (an account, a review, a payment problem...), but no task or article
        # covers it: asking to rephrase would tell the customer they were not understood.
        passing_on = await _passing_on(context, say, not_mine=True)
        return Outcome(handoff=HandoffReason.no_answer).say(passing_on)
    state.out_of_scope += 1
    if state.clarified or state.out_of_scope >= 2:
        reason = (
            HandoffReason.out_of_scope
            if labels.intent == "out_of_scope"
            else HandoffReason.low_confidence
        )
        return Outcome(handoff=reason).say(await _passing_on(context, say))
    state.clarified = True
    return Outcome().say(say.clarify)


async def _progress(context: Context, state: DialogueState) -> Outcome:
    """Collect what the task needs, verify the order is the customer's, then ask to confirm."""
    say = replies.phrases(state.language)
    if state.order is None:
        state.awaiting = "order_number"
        return Outcome().say(say.ask_order)
    needs_email = state.task == ActionKind.resend_invoice
    customer = None if needs_email else context.customer_id
    facts = None
    if customer is not None or state.email is not None:
        facts = await context.find_order(state.order, customer, state.email)
    if facts is None:
        return await _not_verified(context, state)
    if state.task == ORDER_STATUS:
        state.finish_task()
        return Outcome(answered=True, action=ORDER_STATUS).say(say.status(facts))
    refusal = say.ineligible(state.task, facts)
    if refusal is not None:
        state.finish_task()
        return Outcome(answered=True).say(refusal)
    if state.task == ActionKind.change_address and state.address is None:
        state.awaiting = "address"
        return Outcome().say(say.ask_address)
    state.pending = {"kind": state.task, "order": state.order, "address": state.address}
    state.pending["email"] = state.email if needs_email else None
    state.awaiting = "confirmation"
    return Outcome().say(say.confirm(state.task or "", facts, state.address))


async def _not_verified(context: Context, state: DialogueState) -> Outcome:
    say = replies.phrases(state.language)
    if state.email is None:
        state.awaiting = "email"
        return Outcome().say(say.ask_email)
    state.failed_checks += 1
    if state.failed_checks >= MAX_FAILED_CHECKS:
        passing_on = await _passing_on(context, say)
        return Outcome(handoff=HandoffReason.not_verified).say(passing_on)
    state.order = state.email = None
    state.awaiting = "order_number"
    return Outcome().say(say.not_found)


async def _execute(context: Context, state: DialogueState, pending: dict[str, Any]) -> Outcome:
    """Run the confirmed action; a failure goes to people."""
    say = replies.phrases(state.language)
    try:
        facts = await context.run_action(pending)
    except OrderActionRefused:
        state.finish_task()
        return Outcome(handoff=HandoffReason.action_failed).say(say.action_failed)
    kind = str(pending["kind"])
    state.finish_task()
    return Outcome(answered=True, action=kind).say(say.done(kind, facts))
