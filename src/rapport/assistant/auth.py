"""Who may read and change the assistant's settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from rapport.identity.auth import authorize
from rapport.identity.enums import Scope
from rapport.identity.schemas import Principal

# Reading: anyone who reads conversations; changing: supervisors and up.
AssistantRead = Annotated[Principal, Depends(authorize(Scope.conversations_read))]
AssistantWrite = Annotated[Principal, Depends(authorize(Scope.conversations_assign))]
# The generative mode sends customers' messages and orders to an outside endpoint with a key:
# an administrator's decision (workspace:write).
AssistantAdmin = Annotated[Principal, Depends(authorize(Scope.workspace_write))]
