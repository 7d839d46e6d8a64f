"""HTTP: routing settings, agents' routing and availability, the business calendar, SLA
policies and a conversation's SLA events (included by support/endpoints.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Response

from rapport.core.deps import SessionDep
from rapport.errors import error_responses
from rapport.identity.enums import ActorType, Scope
from rapport.identity.errors import MissingScope
from rapport.identity.schemas import Principal
from rapport.support.auth import (
    ConversationId,
    ConversationsAssign,
    ConversationsRead,
    ConversationsWrite,
    StaffId,
    acting,
)
from rapport.support.errors import (
    ConversationNotFound,
    SlaPolicyNameTaken,
    SlaPolicyNotFound,
    StaffNotInWorkspace,
)
from rapport.support.routing import routing
from rapport.support.routing_calendar import calendars
from rapport.support.routing_models import SlaEvent
from rapport.support.routing_schemas import (
    AgentRoutingRead,
    AgentRoutingUpdate,
    AvailabilityUpdate,
    CalendarRead,
    CalendarUpdate,
    RoutingSettingsRead,
    RoutingSettingsUpdate,
    SlaEventRead,
    SlaPolicyCreate,
    SlaPolicyRead,
)
from rapport.support.schemas import ID_PATTERN
from rapport.support.service import conversations
from rapport.support.sla import slas
from rapport.support.sla_policies import sla_policies

router = APIRouter(tags=["support"])
PolicyId = Annotated[str, Path(pattern=ID_PATTERN, description="SLA policy id.")]


@router.get("/support-routing", response_model=RoutingSettingsRead)
async def get_routing(principal: ConversationsRead, session: SessionDep) -> RoutingSettingsRead:
    """Return whether conversations are assigned automatically, and how."""
    return await routing.settings(session, principal.workspace_id)


@router.put("/support-routing", response_model=RoutingSettingsRead)
async def configure_routing(
    body: RoutingSettingsUpdate, principal: ConversationsAssign, session: SessionDep
) -> RoutingSettingsRead:
    """Turn automatic assignment on or off and choose round robin or least loaded."""
    return await routing.configure(session, principal.workspace_id, body)


@router.get(
    "/support-agents/{staff_id}/routing",
    response_model=AgentRoutingRead,
    responses=error_responses(StaffNotInWorkspace),
)
async def get_agent_routing(
    staff_id: StaffId, principal: ConversationsRead, session: SessionDep
) -> AgentRoutingRead:
    """Return an agent's availability, capacity, skills, languages and load."""
    return await routing.agent(session, principal.workspace_id, staff_id)


@router.put(
    "/support-agents/{staff_id}/routing",
    response_model=AgentRoutingRead,
    responses=error_responses(StaffNotInWorkspace),
)
async def configure_agent_routing(
    staff_id: StaffId, body: AgentRoutingUpdate, principal: ConversationsAssign, session: SessionDep
) -> AgentRoutingRead:
    """Set an agent's capacity, skills and languages."""
    return await routing.configure_agent(session, principal.workspace_id, staff_id, body)


@router.put(
    "/support-agents/{staff_id}/availability",
    response_model=AgentRoutingRead,
    responses=error_responses(StaffNotInWorkspace, MissingScope),
)
async def set_agent_availability(
    staff_id: StaffId, body: AvailabilityUpdate, principal: ConversationsWrite, session: SessionDep
) -> AgentRoutingRead:
    """Mark an agent online or away (your own, or anyone's with conversations:assign)."""
    _check_may_set_availability(principal, staff_id)
    return await routing.set_availability(
        session, principal.workspace_id, staff_id, body.availability
    )


@router.get("/support-calendar", response_model=CalendarRead)
async def get_calendar(principal: ConversationsRead, session: SessionDep) -> CalendarRead:
    """Return the business hours and holidays SLAs and routing follow."""
    return await calendars.read(session, principal.workspace_id)


@router.put("/support-calendar", response_model=CalendarRead)
async def set_calendar(
    body: CalendarUpdate, principal: ConversationsAssign, session: SessionDep
) -> CalendarRead:
    """Set the business hours (in the workspace's time zone) and holidays."""
    return await calendars.replace(session, principal.workspace_id, body)


@router.get("/sla-policies", response_model=list[SlaPolicyRead])
async def list_sla_policies(
    principal: ConversationsRead, session: SessionDep
) -> list[SlaPolicyRead]:
    """List the SLA policies in the order they are tried."""
    return await sla_policies.list(session, principal.workspace_id)


@router.post(
    "/sla-policies",
    response_model=SlaPolicyRead,
    status_code=201,
    responses=error_responses(SlaPolicyNameTaken),
)
async def create_sla_policy(
    body: SlaPolicyCreate, principal: ConversationsAssign, session: SessionDep
) -> SlaPolicyRead:
    """Add an SLA policy."""
    return await sla_policies.create(session, principal.workspace_id, body)


@router.put(
    "/sla-policies/{policy_id}",
    response_model=SlaPolicyRead,
    responses=error_responses(SlaPolicyNotFound, SlaPolicyNameTaken),
)
async def replace_sla_policy(
    policy_id: PolicyId, body: SlaPolicyCreate, principal: ConversationsAssign, session: SessionDep
) -> SlaPolicyRead:
    """Change an SLA policy's conditions and targets."""
    return await sla_policies.replace(session, principal.workspace_id, policy_id, body)


@router.delete(
    "/sla-policies/{policy_id}", status_code=204, responses=error_responses(SlaPolicyNotFound)
)
async def delete_sla_policy(
    policy_id: PolicyId, principal: ConversationsAssign, session: SessionDep
) -> Response:
    """Remove an SLA policy (its recorded breaches stay)."""
    await sla_policies.delete(session, principal.workspace_id, policy_id)
    return Response(status_code=204)


@router.get(
    "/conversations/{conversation_id}/sla-events",
    response_model=list[SlaEventRead],
    responses=error_responses(ConversationNotFound),
)
async def list_sla_events(
    conversation_id: ConversationId, principal: ConversationsRead, session: SessionDep
) -> Sequence[SlaEvent]:
    """Return a conversation's SLA warnings and breaches, oldest first."""
    conversation = await conversations.get(
        session, principal.workspace_id, conversation_id, acting(principal)
    )
    return await slas.events(session, principal.workspace_id, conversation.id)


def _check_may_set_availability(principal: Principal, staff_id: str) -> None:
    """Let staff set their own availability; anyone else's needs conversations:assign."""
    own = principal.actor_type == ActorType.staff and principal.actor_id == staff_id
    if not own and not principal.can(Scope.conversations_assign):
        raise MissingScope(f"This needs the scope(s): {Scope.conversations_assign}.")
