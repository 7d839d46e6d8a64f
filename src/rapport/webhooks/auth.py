"""Who may call the webhooks API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from rapport.identity.auth import authorize
from rapport.identity.enums import Scope
from rapport.identity.schemas import Principal

ID_PATTERN = r"^[0-9a-f]{32}$"

WebhooksRead = Annotated[Principal, Depends(authorize(Scope.webhooks_read))]
WebhooksWrite = Annotated[Principal, Depends(authorize(Scope.webhooks_write))]
EndpointId = Annotated[str, Path(pattern=ID_PATTERN, description="Webhook endpoint id.")]
