"""A customer message's turn in the database: labels stored, the dialogue run on the pending
conversation, replies posted, actions run, hand-off with a note for agents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.assistant import knowledge
from rapport.assistant.actions import ASSISTANT_ACTOR, run_action
from rapport.assistant.dialogue import (
    ORDER_STATUS,
    TASK_OF_INTENT,
    Context,
    CustomAnswer,
    Draft,
    Hit,
    Rules,
    respond,
)
from rapport.assistant.enums import ActionKind, HandoffReason
from rapport.assistant.models import Dialogue
from rapport.assistant.replies import phrases
from rapport.assistant.repository import CustomIntentDayRepository, DialogueRepository
from rapport.assistant.schemas import AssistantSettingsRead
from rapport.assistant.service import assistant
from rapport.assistant.state import DialogueState, Outcome, is_no, is_yes
from rapport.core.clock import utcnow
from rapport.core.crypto import keyring
from rapport.customers.errors import CustomerNotFound
from rapport.customers.service import customers
from rapport.events.order_actions import OrderFacts, order_actions
from rapport.identity.audit import audit
from rapport.support.assistant_desk import CustomerMessage, MessageLabels, assistant_desk
from rapport.support.enums import ConversationStatus


@dataclass(frozen=True)
class TurnResult:
    """What a turn did, for callers that count (the replay test, the benchmark)."""

    replied: bool
    outcome: Outcome | None


def state_aad(dialogue_id: str) -> str:
    """Return the associated data binding a sealed dialogue state to its row."""
    return f"assistant_dialogues.state:{dialogue_id}"


async def prefetch(
    session: AsyncSession, workspace_id: str, message: CustomerMessage, labels: MessageLabels
) -> Sequence[Hit]:
    """Search the knowledge base before the turn's writes (the search embeds the question),
    unless the message is a confirmation or an order task."""
    if message.status != ConversationStatus.pending or is_yes(message.text):
        return []
    if is_no(message.text) or labels.intent in TASK_OF_INTENT:
        return []
    language = None if labels.language == "und" else labels.language
    return await knowledge.search(session, workspace_id, message.text, language)


async def take_turn(
    session: AsyncSession,
    workspace_id: str,
    message: CustomerMessage,
    labels: MessageLabels,
    hits: Sequence[Hit],
    draft: Draft | None = None,
    custom_answer: CustomAnswer | None = None,
    shipped: MessageLabels | None = None,
) -> TurnResult:
    """Label the message (once) and, if the assistant owns the conversation, answer it (with
    the generative model's draft when it was made for this very turn, or the workspace's own
    answer when the message matched one of its custom intents). `shipped`: the shipped
    model's labels, when a custom intent's replaced them in `labels` (what is stored): the
    hand-off rules read these, so a confident complaint or request for a person still goes
    to people."""
    conversation = await assistant_desk.label(session, workspace_id, message, labels)
    if conversation is not None and custom_answer is not None and custom_answer.intent_id:
        day = utcnow().date()
        await CustomIntentDayRepository(session, workspace_id).add_match(
            custom_answer.intent_id, day
        )
    if conversation is None or conversation.status != ConversationStatus.pending:
        return TurnResult(False, None)
    settings = await assistant.settings(session, workspace_id, conversation.channel)
    repository = DialogueRepository(session, workspace_id)
    with session.no_autoflush:  # the conversation's labels are written with the reply's change
        dialogue = await repository.of(conversation.id)
    if dialogue is None:
        dialogue = await repository.add(
            Dialogue(conversation_id=conversation.id, state=b"", handed_off=False, turns=0)
        )
    if dialogue.handed_off:
        return TurnResult(False, None)
    state = _open(dialogue)
    context = await _context(session, workspace_id, conversation, settings, hits, custom_answer)
    if not settings.enabled:
        said = phrases(state.language).switched_off
        outcome = Outcome(handoff=HandoffReason.out_of_scope).say(said)
    else:
        stale = draft is not None and draft.turn != dialogue.turns
        read = shipped if shipped is not None else labels
        outcome = await respond(context, state, message.text, read, None if stale else draft)
    if outcome.action is not None and state.order is not None:
        state.done = [*state.done, f"{outcome.action}:{state.order}"][-MAX_DONE:]
    await _apply(session, workspace_id, conversation, outcome, labels, settings.name, state)
    dialogue.handed_off = outcome.handoff is not None
    dialogue.turns += 1
    dialogue.updated_at = utcnow()
    dialogue.state = keyring().encrypt(state.dump(), state_aad(dialogue.id))
    return TurnResult(True, outcome)


def _open(dialogue: Dialogue) -> DialogueState:
    if not dialogue.state:
        return DialogueState()
    return DialogueState.load(keyring().decrypt(dialogue.state, state_aad(dialogue.id)))


async def _context(
    session: AsyncSession,
    workspace_id: str,
    conversation: Any,
    settings: AssistantSettingsRead,
    hits: Sequence[Hit],
    custom_answer: CustomAnswer | None,
) -> Context:
    async def find_order(
        order_key: str, customer_id: str | None, email: str | None
    ) -> OrderFacts | None:
        return await order_actions.visible_to(
            session, workspace_id, order_key, customer_id=customer_id, email=email
        )

    async def act(pending: dict[str, Any]) -> OrderFacts:
        return await run_action(session, workspace_id, conversation.id, pending)

    rules = Rules(
        settings.confidence_threshold,
        settings.negative_sentiment_threshold,
        settings.knowledge_threshold,
    )

    async def agents_online() -> bool:
        return await assistant_desk.agents_online(session, workspace_id)

    vip = await _is_vip(session, workspace_id, conversation.customer_id, settings.vip_trait)
    return Context(
        rules, vip, conversation.customer_id, hits, find_order, act, custom_answer, agents_online
    )


async def _is_vip(
    session: AsyncSession, workspace_id: str, customer_id: str | None, trait: str | None
) -> bool:
    if customer_id is None or trait is None:
        return False
    try:
        profile = await customers.get(session, workspace_id, customer_id)
    except CustomerNotFound:
        return False
    found = profile.traits.get(trait)
    return found is not None and found.value not in (None, False, "", 0, "false", "no")


async def _apply(
    session: AsyncSession,
    workspace_id: str,
    conversation: Any,
    outcome: Outcome,
    labels: MessageLabels,
    name: str,
    state: DialogueState,
) -> None:
    """Post the replies, then hand off (note first) or resolve."""
    for reply in outcome.replies:
        await assistant_desk.post(session, conversation, reply, private=False)
    if outcome.action == ORDER_STATUS:
        await audit.record(
            session, "assistant.order_status_shown", ASSISTANT_ACTOR,
            workspace_id=workspace_id, target_type="conversation", target_id=conversation.id,
        )  # fmt: skip
    if outcome.handoff is not None:
        note = _summary(name, outcome.handoff, labels, state)
        await assistant_desk.post(session, conversation, note, private=True)
        reason = str(outcome.handoff)
        await assistant_desk.hand_off(session, conversation, reason, labels.intent)
    elif outcome.resolve:
        await assistant_desk.resolve(session, conversation)


def _summary(name: str, reason: HandoffReason, labels: MessageLabels, state: DialogueState) -> str:
    """The agents' note, in plain words: why, what the assistant did (orders shown, actions
    run), what the last message seemed to be, and the task in hand (no message text, email
    or address)."""
    lines = [f"{name} handed this conversation off ({reason}): {_REASONS[reason]}."]
    done = [_DONE[kind].format(order=order) for kind, _, order in _split(state.done)]
    if done:
        lines.append(f"Done: {'; '.join(done)}.")
    language = _LANGUAGES.get(labels.language, labels.language)
    lines.append(
        f"Last message: intent {labels.intent.replace('_', ' ')} "
        f"({labels.intent_confidence:.0%} sure), sentiment {labels.sentiment} "
        f"({labels.sentiment_score:+.2f}), {language}."
    )
    if state.task is not None or state.order is not None:
        task = (state.task or "").replace("_", " ")
        order = f"order {state.order}" if state.order is not None else ""
        lines.append(f"In hand: {', '.join(part for part in (task, order) if part)}.")
    return "\n".join(lines)


def _split(done: list[str]) -> list[tuple[str, str, str]]:
    """Read the state's record of what was done (entries of an unknown kind are skipped)."""
    return [entry.partition(":") for entry in done if entry.partition(":")[0] in _DONE]


MAX_DONE = 10
_REASONS = {
    HandoffReason.asked_for_human: "the customer asked for a person",
    HandoffReason.negative_sentiment: "the customer sounds upset",
    HandoffReason.vip_customer: "a VIP customer",
    HandoffReason.low_confidence: "it did not understand the customer, twice",
    HandoffReason.out_of_scope: "the questions are outside what it handles",
    HandoffReason.action_failed: "an action on the order failed",
    HandoffReason.not_verified: "the customer could not show the order is theirs",
    HandoffReason.complaint: "a complaint",
    HandoffReason.custom_intent: "a custom intent hands these over",
    HandoffReason.no_answer: "it understood, but has no task or article for it",
}
_DONE = {
    ORDER_STATUS: "showed the status of order {order}",
    ActionKind.cancel_order: "cancelled order {order}",
    ActionKind.change_address: "changed the delivery address of order {order}",
    ActionKind.request_return: "started a return of order {order}",
    ActionKind.resend_invoice: "resent the invoice of order {order}",
}
_LANGUAGES = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "und": "language unknown",
}
