"""Who may call the support API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from rapport.identity.auth import authorize
from rapport.identity.enums import ActorType, Scope
from rapport.identity.schemas import Principal
from rapport.support.schemas import ID_PATTERN, Acting

ConversationsRead = Annotated[Principal, Depends(authorize(Scope.conversations_read))]
ConversationsWrite = Annotated[Principal, Depends(authorize(Scope.conversations_write))]
ConversationsAssign = Annotated[Principal, Depends(authorize(Scope.conversations_assign))]
ConversationId = Annotated[str, Path(pattern=ID_PATTERN, description="Conversation id.")]
SurvivorId = Annotated[str, Path(pattern=ID_PATTERN, description="The conversation that remains.")]
TeamId = Annotated[str, Path(pattern=ID_PATTERN, description="Support team id.")]
StaffId = Annotated[str, Path(pattern=ID_PATTERN, description="Staff member id.")]


def acting(principal: Principal) -> Acting:
    """Name who acts; a staff member's own id comes along so their team limits apply."""
    staff_id = principal.actor_id if principal.actor_type == ActorType.staff else None
    return Acting(actor=f"{principal.actor_type}:{principal.actor_id}", staff_id=staff_id)
