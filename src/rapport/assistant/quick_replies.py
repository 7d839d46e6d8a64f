"""Quick replies under the assistant's yes/no question: the widget shows them as buttons, and
a tap sends "yes" or "no" (in the conversation's language: "oui", "ja", "sí"...) as typed
text, so the dialogue's confirmation stays the only path."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.assistant.replies import phrases
from rapport.assistant.repository import DialogueRepository
from rapport.assistant.state import DialogueState
from rapport.assistant.turn import state_aad
from rapport.core.crypto import keyring
from rapport.errors import RapportError
from rapport.support.assistant_desk import ASSISTANT
from rapport.support.enums import ConversationStatus
from rapport.support.service import conversations
from rapport.support.widget_schemas import QuickReply


async def confirmation_replies(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> list[QuickReply]:
    """Return Yes / No while the assistant, still in charge of the conversation, waits for
    the customer to confirm an action."""
    dialogue = await DialogueRepository(session, workspace_id).of(conversation_id)
    if dialogue is None or dialogue.handed_off or not dialogue.state:
        return []
    state = DialogueState.load(keyring().decrypt(dialogue.state, state_aad(dialogue.id)))
    if state.awaiting != "confirmation" or not state.pending:
        return []
    # Only while the assistant still has the conversation: once a person has it (open,
    # snoozed, resolved), a "yes" runs nothing and the buttons would promise it.
    try:
        conversation = await conversations.get(session, workspace_id, conversation_id, ASSISTANT)
    except RapportError:  # merged away or gone: nothing to confirm here
        return []
    if conversation.status != ConversationStatus.pending:
        return []
    say = phrases(state.language)
    return [QuickReply(label=label, text=text) for label, text in (say.yes, say.no)]
