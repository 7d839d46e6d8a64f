"""Macros: a named sequence of conversation actions applied in one click, each through the
same service method (and so the same history, metrics, events and pushes) as by hand."""

from __future__ import annotations

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import take_writer
from rapport.errors import Forbidden
from rapport.support.canned import canned_responses
from rapport.support.enums import MessageKind
from rapport.support.lifecycle import log
from rapport.support.models import Conversation
from rapport.support.schemas import Acting, AssignmentChange, ConversationUpdate, MessageCreate
from rapport.support.service import conversations
from rapport.support.teams import teams
from rapport.support.tools_errors import (
    CannedResponseNotFound,
    InvalidMacro,
    MacroNotFound,
    NameTaken,
)
from rapport.support.tools_models import Macro
from rapport.support.tools_ownership import check_may_change, owner_for
from rapport.support.tools_repository import CannedResponseRepository, MacroRepository
from rapport.support.tools_schemas import (
    AssignAction,
    MacroAction,
    MacroWrite,
    NoteAction,
    PriorityAction,
    ReplyAction,
    StatusAction,
    TagsAction,
)

ACTIONS: TypeAdapter[list[MacroAction]] = TypeAdapter(list[MacroAction])


class MacroService:
    async def list(self, session: AsyncSession, workspace_id: str, acting: Acting) -> list[Macro]:
        """Return the macros the caller may use, by name."""
        return list(await MacroRepository(session, workspace_id).listed(acting.staff_id))

    async def get(
        self, session: AsyncSession, workspace_id: str, macro_id: str, acting: Acting
    ) -> Macro:
        """Return a macro the caller may use."""
        found = await MacroRepository(session, workspace_id).usable(macro_id, acting.staff_id)
        if found is None:
            raise MacroNotFound("No such macro in this workspace.")
        return found

    async def create(
        self,
        session: AsyncSession,
        workspace_id: str,
        body: MacroWrite,
        acting: Acting,
        may_share: bool,
    ) -> Macro:
        """Add a macro, shared or the caller's own."""
        owner_id = owner_for(body.shared, acting, may_share)
        await self._check(session, workspace_id, body, owner_id, None)
        macro = Macro(owner_id=owner_id, name=body.name, actions=_stored(body))
        return await MacroRepository(session, workspace_id).add(macro)

    async def replace(
        self,
        session: AsyncSession,
        workspace_id: str,
        macro_id: str,
        body: MacroWrite,
        acting: Acting,
        may_share: bool,
    ) -> Macro:
        """Change a macro's name, actions or sharing."""
        macro = await self.get(session, workspace_id, macro_id, acting)
        check_may_change(macro, acting, may_share)
        owner_id = owner_for(body.shared, acting, may_share)
        await self._check(session, workspace_id, body, owner_id, macro.id)
        macro.owner_id, macro.name, macro.actions = owner_id, body.name, _stored(body)
        return macro

    async def delete(
        self,
        session: AsyncSession,
        workspace_id: str,
        macro_id: str,
        acting: Acting,
        may_share: bool,
    ) -> None:
        """Delete a macro."""
        macro = await self.get(session, workspace_id, macro_id, acting)
        check_may_change(macro, acting, may_share)
        await MacroRepository(session, workspace_id).delete(macro)

    async def apply(
        self,
        session: AsyncSession,
        workspace_id: str,
        macro_id: str,
        conversation_id: str,
        acting: Acting,
        may_assign: bool,
    ) -> Conversation:
        """Apply a macro's actions to a conversation, all or none, assignments last."""
        macro = await self.get(session, workspace_id, macro_id, acting)
        actions = ACTIONS.validate_python(macro.actions)
        _check_may_apply(actions, acting, may_assign)
        conversation = await conversations.get_for_change(
            session, workspace_id, conversation_id, acting
        )
        await log(session, conversation, "macro", acting.actor, macro_id=macro.id, name=macro.name)
        ordered = sorted(actions, key=lambda action: isinstance(action, AssignAction))
        for action in ordered:
            conversation = await _apply(session, conversation, action, acting)
        return conversation

    async def _check(
        self,
        session: AsyncSession,
        workspace_id: str,
        body: MacroWrite,
        owner_id: str | None,
        own_id: str | None,
    ) -> None:
        await _check_actions(session, workspace_id, body, owner_id)
        await take_writer(session)  # the name check and the write form one write
        same = await MacroRepository(session, workspace_id).named(owner_id, body.name)
        if same is not None and same.id != own_id:
            raise NameTaken(f"A macro is already called {body.name!r}.")


def _stored(body: MacroWrite) -> list[dict[str, object]]:
    return [action.model_dump(mode="json", exclude_unset=True) for action in body.actions]


async def _check_actions(
    session: AsyncSession, workspace_id: str, body: MacroWrite, owner_id: str | None
) -> None:
    """Refuse actions naming what the macro's users could not use: a canned response that
    is someone else's (or personal, in a shared macro), a stranger, an unknown team."""
    canned = CannedResponseRepository(session, workspace_id)
    for action in body.actions:
        if isinstance(action, ReplyAction):
            found = await canned.usable(action.canned_response_id, owner_id)
            if found is None or (owner_id is None and found.owner_id is not None):
                raise InvalidMacro("A macro replies with a canned response all its users have.")
        if isinstance(action, AssignAction):
            if action.assignee_id not in (None, "me"):
                await teams.check_member(session, workspace_id, action.assignee_id)
            if action.team_id is not None:
                await teams.get(session, workspace_id, action.team_id)


def _check_may_apply(actions: list[MacroAction], acting: Acting, may_assign: bool) -> None:
    """Refuse a macro that assigns anyone but the caller without the right to assign."""
    for action in actions:
        if not isinstance(action, AssignAction) or may_assign:
            continue
        fields = action.model_fields_set
        taking = action.assignee_id == "me" and acting.staff_id is not None
        if "team_id" in fields or ("assignee_id" in fields and not taking):
            raise Forbidden("This macro assigns conversations; only supervisors and up may.")


async def _apply(
    session: AsyncSession, conversation: Conversation, action: MacroAction, acting: Acting
) -> Conversation:
    """Apply one action through the service method the console's own forms call."""
    workspace_id, conversation_id = conversation.workspace_id, conversation.id
    if isinstance(action, ReplyAction | NoteAction):
        text = await _text_of(session, conversation, action, acting)
        kind = MessageKind.reply if isinstance(action, ReplyAction) else MessageKind.note
        message = MessageCreate(kind=kind, body=text)
        await conversations.post(session, workspace_id, conversation_id, message, acting)
        return conversation
    if isinstance(action, AssignAction):
        change = _assignment(action, acting)
        return await conversations.assign(session, workspace_id, conversation_id, change, acting)
    update = _update(conversation, action)
    return await conversations.update(session, workspace_id, conversation_id, update, acting)


async def _text_of(
    session: AsyncSession,
    conversation: Conversation,
    action: ReplyAction | NoteAction,
    acting: Acting,
) -> str:
    if isinstance(action, NoteAction):
        return action.body
    repository = CannedResponseRepository(session, conversation.workspace_id)
    canned = await repository.usable(action.canned_response_id, acting.staff_id)
    if canned is None:
        raise CannedResponseNotFound("The macro's canned response is gone; change the macro.")
    return await canned_responses.fill_for(session, canned, conversation, acting)


def _assignment(action: AssignAction, acting: Acting) -> AssignmentChange:
    given = {name: getattr(action, name) for name in action.model_fields_set if name != "type"}
    if given.get("assignee_id") == "me":
        if acting.staff_id is None:
            raise InvalidMacro("Only a staff member can be `me`; an API key assigns by id.")
        given["assignee_id"] = acting.staff_id
    return AssignmentChange.model_validate(given)


def _update(
    conversation: Conversation, action: TagsAction | PriorityAction | StatusAction
) -> ConversationUpdate:
    if isinstance(action, PriorityAction):
        return ConversationUpdate(priority=action.priority)
    if isinstance(action, StatusAction):
        return ConversationUpdate(status=action.status)
    tags = list(conversation.tags)
    if action.type == "add_tags":
        tags = list(dict.fromkeys([*tags, *action.tags]))
    else:
        tags = [tag for tag in tags if tag not in set(action.tags)]
    return ConversationUpdate.model_validate({"tags": tags})


macros = MacroService()
