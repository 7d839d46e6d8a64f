"""HTTP for webhooks: endpoints (create, list, read, change, delete, rotate the secret),
their deliveries, and a test event."""

from __future__ import annotations

from fastapi import APIRouter, Response

from rapport.core.deps import SessionDep
from rapport.errors import error_responses
from rapport.identity.audit import Actor
from rapport.webhooks.auth import EndpointId, WebhooksRead, WebhooksWrite
from rapport.webhooks.errors import (
    TooManyWebhookEndpoints,
    WebhookEndpointNotFound,
    WebhookTargetRefused,
)
from rapport.webhooks.models import WebhookEndpoint
from rapport.webhooks.schemas import (
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
    WebhookSecretRead,
)
from rapport.webhooks.service import webhooks

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
NOT_FOUND = error_responses(WebhookEndpointNotFound)


@router.post(
    "",
    response_model=WebhookSecretRead,
    status_code=201,
    responses=error_responses(WebhookTargetRefused, TooManyWebhookEndpoints),
)
async def create_webhook(
    body: WebhookEndpointCreate, principal: WebhooksWrite, session: SessionDep
) -> WebhookSecretRead:
    """Add a webhook endpoint; its signing secret is in this answer only."""
    return await webhooks.create(session, principal.workspace_id, body, Actor.of(principal))


@router.get("", response_model=list[WebhookEndpointRead])
async def list_webhooks(principal: WebhooksRead, session: SessionDep) -> list[WebhookEndpoint]:
    """List the workspace's webhook endpoints."""
    return await webhooks.listed(session, principal.workspace_id)


@router.get("/{endpoint_id}", response_model=WebhookEndpointRead, responses=NOT_FOUND)
async def get_webhook(
    endpoint_id: EndpointId, principal: WebhooksRead, session: SessionDep
) -> WebhookEndpoint:
    """Return one webhook endpoint."""
    return await webhooks.get(session, principal.workspace_id, endpoint_id)


@router.patch(
    "/{endpoint_id}",
    response_model=WebhookEndpointRead,
    responses=error_responses(WebhookEndpointNotFound, WebhookTargetRefused),
)
async def update_webhook(
    endpoint_id: EndpointId,
    body: WebhookEndpointUpdate,
    principal: WebhooksWrite,
    session: SessionDep,
) -> WebhookEndpoint:
    """Change a webhook endpoint's URL, events, note, or turn it on or off."""
    return await webhooks.update(
        session, principal.workspace_id, endpoint_id, body, Actor.of(principal)
    )


@router.delete("/{endpoint_id}", status_code=204, response_class=Response, responses=NOT_FOUND)
async def delete_webhook(
    endpoint_id: EndpointId, principal: WebhooksWrite, session: SessionDep
) -> Response:
    """Remove a webhook endpoint and its delivery history."""
    await webhooks.delete(session, principal.workspace_id, endpoint_id, Actor.of(principal))
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret", response_model=WebhookSecretRead, responses=NOT_FOUND)
async def rotate_webhook_secret(
    endpoint_id: EndpointId, principal: WebhooksWrite, session: SessionDep
) -> WebhookSecretRead:
    """Replace the endpoint's signing secret now; the new one is in this answer only."""
    return await webhooks.rotate_secret(
        session, principal.workspace_id, endpoint_id, Actor.of(principal)
    )


@router.get(
    "/{endpoint_id}/deliveries", response_model=list[WebhookDeliveryRead], responses=NOT_FOUND
)
async def list_webhook_deliveries(
    endpoint_id: EndpointId, principal: WebhooksRead, session: SessionDep
) -> list[WebhookDeliveryRead]:
    """List the endpoint's 50 newest deliveries with every attempt."""
    return await webhooks.deliveries(session, principal.workspace_id, endpoint_id)


@router.post(
    "/{endpoint_id}/test",
    response_model=WebhookDeliveryRead,
    status_code=202,
    responses=NOT_FOUND,
)
async def send_webhook_test(
    endpoint_id: EndpointId, principal: WebhooksWrite, session: SessionDep
) -> WebhookDeliveryRead:
    """Queue a `webhook.test` event to the endpoint."""
    return await webhooks.send_test(session, principal.workspace_id, endpoint_id)
