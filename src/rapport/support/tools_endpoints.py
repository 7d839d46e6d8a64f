"""HTTP: agent tools: canned responses, macros, saved views, and taking a conversation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from rapport.core.deps import SessionDep
from rapport.errors import BadRequest, Forbidden, error_responses
from rapport.identity.enums import Scope
from rapport.identity.schemas import Principal
from rapport.support.auth import ConversationId, ConversationsRead, ConversationsWrite, acting
from rapport.support.canned import canned_responses
from rapport.support.errors import ConversationMerged, ConversationNotFound, TeamNotFound
from rapport.support.macros import macros
from rapport.support.models import Conversation
from rapport.support.schemas import ID_PATTERN, ConversationPage, ConversationRead
from rapport.support.taking import take
from rapport.support.tools_errors import (
    CannedResponseNotFound,
    ConversationTaken,
    InvalidMacro,
    MacroNotFound,
    NameTaken,
    NotYours,
    SavedViewNotFound,
    UnknownVariable,
)
from rapport.support.tools_models import CannedResponse, Macro
from rapport.support.tools_schemas import (
    CannedResponseRead,
    CannedResponseWrite,
    MacroRead,
    MacroWrite,
    RenderedResponse,
    SavedViewRead,
    SavedViewWrite,
)
from rapport.support.views import saved_views

router = APIRouter(tags=["support"])
CannedId = Annotated[str, Path(pattern=ID_PATTERN, description="Canned response id.")]
MacroId = Annotated[str, Path(pattern=ID_PATTERN, description="Macro id.")]
ViewId = Annotated[str, Path(pattern=ID_PATTERN, description="Saved view id.")]
Cursor = Annotated[
    str | None,
    Query(max_length=500, pattern=r"^[A-Za-z0-9_=-]*$", description="From `next_cursor`."),
]
Search = Annotated[
    str | None, Query(max_length=50, description="Shortcut prefix or words of the title.")
]
CHANGE_ERRORS = (NotYours, NameTaken)


def _may_assign(principal: Principal) -> bool:
    """Tell whether the caller assigns others and shares tools (supervisors and up)."""
    return principal.can(Scope.conversations_assign)


@router.get("/canned-responses", response_model=list[CannedResponseRead])
async def list_canned_responses(
    principal: ConversationsRead, session: SessionDep, search: Search = None
) -> list[CannedResponse]:
    """List the shared canned responses and your own, by shortcut (or the best matches)."""
    return await canned_responses.list(session, principal.workspace_id, acting(principal), search)


@router.post(
    "/canned-responses",
    response_model=CannedResponseRead,
    status_code=201,
    responses=error_responses(UnknownVariable, *CHANGE_ERRORS),
)
async def create_canned_response(
    body: CannedResponseWrite, principal: ConversationsWrite, session: SessionDep
) -> CannedResponse:
    """Add a canned response, yours or shared (supervisors and up)."""
    return await canned_responses.create(
        session, principal.workspace_id, body, acting(principal), _may_assign(principal)
    )


@router.get(
    "/canned-responses/{canned_id}",
    response_model=CannedResponseRead,
    responses=error_responses(CannedResponseNotFound),
)
async def get_canned_response(
    canned_id: CannedId, principal: ConversationsRead, session: SessionDep
) -> CannedResponse:
    """Return a canned response."""
    return await canned_responses.get(session, principal.workspace_id, canned_id, acting(principal))


@router.put(
    "/canned-responses/{canned_id}",
    response_model=CannedResponseRead,
    responses=error_responses(CannedResponseNotFound, UnknownVariable, *CHANGE_ERRORS),
)
async def replace_canned_response(
    canned_id: CannedId,
    body: CannedResponseWrite,
    principal: ConversationsWrite,
    session: SessionDep,
) -> CannedResponse:
    """Change a canned response."""
    return await canned_responses.replace(
        session, principal.workspace_id, canned_id, body, acting(principal), _may_assign(principal)
    )


@router.delete(
    "/canned-responses/{canned_id}",
    status_code=204,
    responses=error_responses(CannedResponseNotFound, NotYours),
)
async def delete_canned_response(
    canned_id: CannedId, principal: ConversationsWrite, session: SessionDep
) -> Response:
    """Delete a canned response."""
    await canned_responses.delete(
        session, principal.workspace_id, canned_id, acting(principal), _may_assign(principal)
    )
    return Response(status_code=204)


@router.get(
    "/conversations/{conversation_id}/canned-responses/{canned_id}",
    response_model=RenderedResponse,
    responses=error_responses(CannedResponseNotFound, ConversationNotFound),
)
async def render_canned_response(
    conversation_id: ConversationId,
    canned_id: CannedId,
    principal: ConversationsRead,
    session: SessionDep,
) -> RenderedResponse:
    """Return a canned response's text with its variables filled for a conversation."""
    return await canned_responses.render(
        session, principal.workspace_id, canned_id, conversation_id, acting(principal)
    )


@router.get("/macros", response_model=list[MacroRead])
async def list_macros(principal: ConversationsRead, session: SessionDep) -> list[Macro]:
    """List the shared macros and your own, by name."""
    return await macros.list(session, principal.workspace_id, acting(principal))


@router.post(
    "/macros",
    response_model=MacroRead,
    status_code=201,
    responses=error_responses(InvalidMacro, TeamNotFound, *CHANGE_ERRORS),
)
async def create_macro(
    body: MacroWrite, principal: ConversationsWrite, session: SessionDep
) -> Macro:
    """Add a macro, yours or shared (supervisors and up)."""
    return await macros.create(
        session, principal.workspace_id, body, acting(principal), _may_assign(principal)
    )


@router.get(
    "/macros/{macro_id}", response_model=MacroRead, responses=error_responses(MacroNotFound)
)
async def get_macro(macro_id: MacroId, principal: ConversationsRead, session: SessionDep) -> Macro:
    """Return a macro."""
    return await macros.get(session, principal.workspace_id, macro_id, acting(principal))


@router.put(
    "/macros/{macro_id}",
    response_model=MacroRead,
    responses=error_responses(MacroNotFound, InvalidMacro, TeamNotFound, *CHANGE_ERRORS),
)
async def replace_macro(
    macro_id: MacroId, body: MacroWrite, principal: ConversationsWrite, session: SessionDep
) -> Macro:
    """Change a macro."""
    return await macros.replace(
        session, principal.workspace_id, macro_id, body, acting(principal), _may_assign(principal)
    )


@router.delete(
    "/macros/{macro_id}", status_code=204, responses=error_responses(MacroNotFound, NotYours)
)
async def delete_macro(
    macro_id: MacroId, principal: ConversationsWrite, session: SessionDep
) -> Response:
    """Delete a macro."""
    await macros.delete(
        session, principal.workspace_id, macro_id, acting(principal), _may_assign(principal)
    )
    return Response(status_code=204)


@router.post(
    "/conversations/{conversation_id}/apply-macro/{macro_id}",
    response_model=ConversationRead,
    responses=error_responses(
        ConversationNotFound, ConversationMerged, MacroNotFound, CannedResponseNotFound, Forbidden
    ),
)
async def apply_macro(
    conversation_id: ConversationId,
    macro_id: MacroId,
    principal: ConversationsWrite,
    session: SessionDep,
) -> Conversation:
    """Apply a macro's actions to a conversation, all or none."""
    return await macros.apply(
        session,
        principal.workspace_id,
        macro_id,
        conversation_id,
        acting(principal),
        _may_assign(principal),
    )


@router.post(
    "/conversations/{conversation_id}/take",
    response_model=ConversationRead,
    responses=error_responses(
        ConversationNotFound, ConversationMerged, ConversationTaken, Forbidden
    ),
)
async def take_conversation(
    conversation_id: ConversationId, principal: ConversationsWrite, session: SessionDep
) -> Conversation:
    """Assign a conversation to yourself (one a colleague holds: supervisors and up)."""
    return await take(
        session, principal.workspace_id, conversation_id, acting(principal), _may_assign(principal)
    )


@router.get("/saved-views", response_model=list[SavedViewRead])
async def list_saved_views(
    principal: ConversationsRead, session: SessionDep
) -> list[SavedViewRead]:
    """List the shared saved views and your own, each with how many conversations it shows."""
    return await saved_views.list(session, principal.workspace_id, acting(principal))


@router.post(
    "/saved-views",
    response_model=SavedViewRead,
    status_code=201,
    responses=error_responses(TeamNotFound, *CHANGE_ERRORS),
)
async def create_saved_view(
    body: SavedViewWrite, principal: ConversationsWrite, session: SessionDep
) -> SavedViewRead:
    """Save inbox filters under a name, yours or shared (supervisors and up)."""
    return await saved_views.create(
        session, principal.workspace_id, body, acting(principal), _may_assign(principal)
    )


@router.delete(
    "/saved-views/{view_id}",
    status_code=204,
    responses=error_responses(SavedViewNotFound, NotYours),
)
async def delete_saved_view(
    view_id: ViewId, principal: ConversationsWrite, session: SessionDep
) -> Response:
    """Delete a saved view."""
    await saved_views.delete(
        session, principal.workspace_id, view_id, acting(principal), _may_assign(principal)
    )
    return Response(status_code=204)


@router.get(
    "/saved-views/{view_id}/conversations",
    response_model=ConversationPage,
    responses=error_responses(SavedViewNotFound, BadRequest),
)
async def list_saved_view_conversations(
    view_id: ViewId,
    principal: ConversationsRead,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Most items to return.")] = 50,
) -> ConversationPage:
    """List a saved view's conversations that you may see, newest first."""
    return await saved_views.conversations(
        session, principal.workspace_id, view_id, acting(principal), cursor, limit
    )
