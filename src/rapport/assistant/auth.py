"""Who may read and change the assistant's settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from rapport.identity.auth import authorize
from rapport.identity.enums import Scope
from rapport.identity.schemas import Principal
from rapport.support.enums import Channel

# Reading: anyone who reads conversations; changing: supervisors and up.
AssistantRead = Annotated[Principal, Depends(authorize(Scope.conversations_read))]
AssistantWrite = Annotated[Principal, Depends(authorize(Scope.conversations_assign))]
ChannelName = Annotated[Channel, Path(description="chat, email, sms, api, phone or in_store.")]
