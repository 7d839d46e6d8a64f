"""HTTP: the API channel (conversations, messages, notes), teams and agent limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query

from rapport.core.deps import SessionDep
from rapport.customers.errors import CustomerNotFound
from rapport.errors import BadRequest, error_responses
from rapport.support.auth import (
    ConversationId,
    ConversationsAssign,
    ConversationsRead,
    ConversationsWrite,
    StaffId,
    SurvivorId,
    TeamId,
    acting,
)
from rapport.support.email_endpoints import email_router
from rapport.support.email_endpoints import email_webhook_router as email_webhook_router
from rapport.support.enums import Channel, ConversationStatus, Priority
from rapport.support.errors import (
    CannotMergeConversations,
    ConversationMerged,
    ConversationNotFound,
    InvalidMention,
    InvalidSnooze,
    StaffNotInWorkspace,
    TeamNameTaken,
    TeamNotFound,
)
from rapport.support.merges import merges
from rapport.support.models import Activity, Conversation
from rapport.support.routing_endpoints import router as routing_router
from rapport.support.schemas import (
    ID_PATTERN,
    INTENT_PATTERN,
    ActivityRead,
    AgentRead,
    AgentUpdate,
    AssignmentChange,
    ConversationCreate,
    ConversationFilters,
    ConversationPage,
    ConversationRead,
    ConversationUpdate,
    MessageCreate,
    MessagePage,
    MessageRead,
    SentimentLabel,
    TeamCreate,
    TeamRead,
)
from rapport.support.service import conversations
from rapport.support.sms_endpoints import sms_router
from rapport.support.sms_endpoints import sms_webhook_router as sms_webhook_router
from rapport.support.teams import teams
from rapport.support.tools_endpoints import router as tools_router

router = APIRouter(tags=["support"])
# The email channel's settings; its inbound webhook is mounted at the root (see domains.py).
router.include_router(email_router)
# Routing, agents' availability, the business calendar and SLA policies.
router.include_router(routing_router)
# The SMS channel's settings and records; Twilio's webhooks are mounted at the root.
router.include_router(sms_router)
# Agent tools: canned responses, macros, saved views, taking a conversation.
router.include_router(tools_router)

Cursor = Annotated[
    str | None,
    Query(max_length=500, pattern=r"^[A-Za-z0-9_=-]*$", description="From `next_cursor`."),
]
Limit = Annotated[int, Query(ge=1, le=200, description="Most items to return.")]
IdFilter = Annotated[str | None, Query(pattern=ID_PATTERN, description="Only this id.")]
SentimentFilter = Annotated[
    SentimentLabel | None,
    Query(
        description="Only those whose customer's latest mood (their latest message that is "
        "not a bare answer) is this."
    ),
]
IntentFilter = Annotated[
    str | None,
    Query(
        pattern=INTENT_PATTERN,
        description="Only those with this intent: the latest request their customer made "
        "that was understood (built-in, the workspace's own), or out_of_scope while none was.",
    ),
]


@router.get(
    "/conversations", response_model=ConversationPage, responses=error_responses(BadRequest)
)
async def list_conversations(
    principal: ConversationsRead,
    session: SessionDep,
    status: Annotated[ConversationStatus | None, Query(description="Only this status.")] = None,
    assignee_id: IdFilter = None,
    team_id: IdFilter = None,
    channel: Annotated[Channel | None, Query(description="Only this channel.")] = None,
    priority: Annotated[Priority | None, Query(description="Only this priority.")] = None,
    sentiment: SentimentFilter = None,
    intent: IntentFilter = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ConversationPage:
    """List the conversations you may see, newest first, filtered and paged by keyset."""
    filters = ConversationFilters(
        status, assignee_id, team_id, channel, priority, sentiment=sentiment, intent=intent
    )
    return await conversations.page(
        session, principal.workspace_id, filters, acting(principal), cursor, limit
    )


@router.post(
    "/conversations",
    response_model=ConversationRead,
    status_code=201,
    responses=error_responses(CustomerNotFound, TeamNotFound, InvalidMention),
)
async def create_conversation(
    body: ConversationCreate, principal: ConversationsWrite, session: SessionDep
) -> Conversation:
    """Open a conversation with its first message (your app, a marketplace, a logged call)."""
    return await conversations.create(session, principal.workspace_id, body, acting(principal))


@router.get(
    "/conversations/{conversation_id}",
    response_model=ConversationRead,
    responses=error_responses(ConversationNotFound),
)
async def get_conversation(
    conversation_id: ConversationId, principal: ConversationsRead, session: SessionDep
) -> Conversation:
    """Return a conversation."""
    return await conversations.get(
        session, principal.workspace_id, conversation_id, acting(principal)
    )


@router.patch(
    "/conversations/{conversation_id}",
    response_model=ConversationRead,
    responses=error_responses(ConversationNotFound, ConversationMerged, InvalidSnooze),
)
async def update_conversation(
    conversation_id: ConversationId,
    body: ConversationUpdate,
    principal: ConversationsWrite,
    session: SessionDep,
) -> Conversation:
    """Change a conversation's status, priority, tags or custom attributes."""
    return await conversations.update(
        session, principal.workspace_id, conversation_id, body, acting(principal)
    )


@router.get(
    "/conversations/{conversation_id}/messages",
    response_model=MessagePage,
    responses=error_responses(ConversationNotFound, BadRequest),
)
async def list_messages(
    conversation_id: ConversationId,
    principal: ConversationsRead,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> MessagePage:
    """Return a conversation's messages and private notes, oldest first."""
    return await conversations.messages(
        session, principal.workspace_id, conversation_id, acting(principal), cursor, limit
    )


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=MessageRead,
    status_code=201,
    responses=error_responses(ConversationNotFound, ConversationMerged, InvalidMention),
)
async def post_message(
    conversation_id: ConversationId,
    body: MessageCreate,
    principal: ConversationsWrite,
    session: SessionDep,
) -> MessageRead:
    """Add a customer message, a public reply or a private note (with @mentions)."""
    return await conversations.post(
        session, principal.workspace_id, conversation_id, body, acting(principal)
    )


@router.get(
    "/conversations/{conversation_id}/history",
    response_model=list[ActivityRead],
    responses=error_responses(ConversationNotFound),
)
async def list_history(
    conversation_id: ConversationId, principal: ConversationsRead, session: SessionDep
) -> Sequence[Activity]:
    """Return a conversation's history of changes, oldest first."""
    return await conversations.history(
        session, principal.workspace_id, conversation_id, acting(principal)
    )


@router.put(
    "/conversations/{conversation_id}/assignment",
    response_model=ConversationRead,
    responses=error_responses(
        ConversationNotFound, StaffNotInWorkspace, TeamNotFound, ConversationMerged
    ),
)
async def assign_conversation(
    conversation_id: ConversationId,
    body: AssignmentChange,
    principal: ConversationsAssign,
    session: SessionDep,
) -> Conversation:
    """Assign a conversation to a staff member and/or a team."""
    return await conversations.assign(
        session, principal.workspace_id, conversation_id, body, acting(principal)
    )


@router.post(
    "/conversations/{conversation_id}/merge-into/{survivor_id}",
    response_model=ConversationRead,
    responses=error_responses(ConversationNotFound, ConversationMerged, CannotMergeConversations),
)
async def merge_conversations(
    conversation_id: ConversationId,
    survivor_id: SurvivorId,
    principal: ConversationsWrite,
    session: SessionDep,
) -> Conversation:
    """Merge a conversation into another, which keeps its messages, tags and history."""
    return await merges.merge(
        session, principal.workspace_id, conversation_id, survivor_id, acting(principal)
    )


@router.get("/support-teams", response_model=list[TeamRead])
async def list_teams(principal: ConversationsRead, session: SessionDep) -> list[TeamRead]:
    """List the support teams with their members."""
    return await teams.list(session, principal.workspace_id)


@router.post(
    "/support-teams",
    response_model=TeamRead,
    status_code=201,
    responses=error_responses(TeamNameTaken),
)
async def create_team(
    body: TeamCreate, principal: ConversationsAssign, session: SessionDep
) -> TeamRead:
    """Create a support team."""
    return await teams.create(session, principal.workspace_id, body.name)


@router.put(
    "/support-teams/{team_id}/members/{staff_id}",
    response_model=TeamRead,
    responses=error_responses(TeamNotFound, StaffNotInWorkspace),
)
async def add_team_member(
    team_id: TeamId, staff_id: StaffId, principal: ConversationsAssign, session: SessionDep
) -> TeamRead:
    """Put a staff member in a team."""
    return await teams.add_member(session, principal.workspace_id, team_id, staff_id)


@router.delete(
    "/support-teams/{team_id}/members/{staff_id}",
    response_model=TeamRead,
    responses=error_responses(TeamNotFound, StaffNotInWorkspace),
)
async def remove_team_member(
    team_id: TeamId, staff_id: StaffId, principal: ConversationsAssign, session: SessionDep
) -> TeamRead:
    """Take a staff member out of a team."""
    return await teams.remove_member(session, principal.workspace_id, team_id, staff_id)


@router.get(
    "/support-agents/{staff_id}",
    response_model=AgentRead,
    responses=error_responses(StaffNotInWorkspace),
)
async def get_agent(
    staff_id: StaffId, principal: ConversationsRead, session: SessionDep
) -> AgentRead:
    """Return a staff member's support settings and teams."""
    return await teams.agent(session, principal.workspace_id, staff_id)


@router.put(
    "/support-agents/{staff_id}",
    response_model=AgentRead,
    responses=error_responses(StaffNotInWorkspace),
)
async def limit_agent(
    staff_id: StaffId, body: AgentUpdate, principal: ConversationsAssign, session: SessionDep
) -> AgentRead:
    """Limit a staff member to their teams' conversations, or lift the limit."""
    return await teams.limit_agent(session, principal.workspace_id, staff_id, body.limited_to_teams)
