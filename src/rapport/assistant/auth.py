"""Who may read and change the assistant's settings and custom intents."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from rapport.identity.auth import authorize
from rapport.identity.enums import Scope
from rapport.identity.schemas import Principal
from rapport.support.schemas import ID_PATTERN

# Reading: anyone who reads conversations; changing: supervisors and up.
AssistantRead = Annotated[Principal, Depends(authorize(Scope.conversations_read))]
AssistantWrite = Annotated[Principal, Depends(authorize(Scope.conversations_assign))]
# The generative mode sends customers' messages and orders to an outside endpoint with a key:
# an administrator's decision (workspace:write).
AssistantAdmin = Annotated[Principal, Depends(authorize(Scope.workspace_write))]
CustomIntentId = Annotated[str, Path(pattern=ID_PATTERN, description="Custom intent id.")]
