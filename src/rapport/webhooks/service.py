"""The webhooks service: endpoints (secrets shown once), their deliveries, test events, and
the fan-out of domain events to the endpoints that subscribe to them."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.ids import new_id
from rapport.core.jobs import enqueue
from rapport.identity.audit import Actor, audit
from rapport.webhooks.delivery import DELIVER_JOB, webhook_sender
from rapport.webhooks.enums import TEST_EVENT, DeliveryStatus
from rapport.webhooks.errors import TooManyWebhookEndpoints, WebhookEndpointNotFound
from rapport.webhooks.models import WebhookDelivery, WebhookEndpoint
from rapport.webhooks.repository import AttemptRepository, DeliveryRepository, EndpointRepository
from rapport.webhooks.schemas import (
    WebhookAttemptRead,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
    WebhookSecretRead,
)
from rapport.webhooks.signing import new_secret, seal_secret
from rapport.webhooks.targets import check_url

logger = logging.getLogger(__name__)

MAX_ENDPOINTS = 20
DELIVERIES_LISTED = 50


class WebhookService:
    async def create(
        self, session: AsyncSession, workspace_id: str, body: WebhookEndpointCreate, actor: Actor
    ) -> WebhookSecretRead:
        """Add an endpoint; its signing secret is shown this once."""
        check_url(body.url, webhook_sender.allow_private)
        repository = EndpointRepository(session, workspace_id)
        if await repository.counted() >= MAX_ENDPOINTS:
            raise TooManyWebhookEndpoints(f"A workspace has at most {MAX_ENDPOINTS} endpoints.")
        endpoint_id, secret = new_id(), new_secret()
        endpoint = await repository.add(
            WebhookEndpoint(
                id=endpoint_id, url=body.url, description=body.description,
                event_types=[str(kind) for kind in dict.fromkeys(body.event_types)],
                enabled=body.enabled, secret=seal_secret(endpoint_id, secret),
                updated_at=utcnow(),
            )
        )  # fmt: skip
        await _audit(session, "webhook.created", actor, endpoint)
        return WebhookSecretRead(
            endpoint=WebhookEndpointRead.model_validate(endpoint), secret=secret
        )

    async def listed(self, session: AsyncSession, workspace_id: str) -> list[WebhookEndpoint]:
        """Return the workspace's endpoints."""
        return list(await EndpointRepository(session, workspace_id).listed())

    async def get(
        self, session: AsyncSession, workspace_id: str, endpoint_id: str
    ) -> WebhookEndpoint:
        """Return one endpoint of the workspace."""
        endpoint = await EndpointRepository(session, workspace_id).get(endpoint_id)
        if endpoint is None:
            raise WebhookEndpointNotFound("No such webhook endpoint in this workspace.")
        return endpoint

    async def update(
        self,
        session: AsyncSession,
        workspace_id: str,
        endpoint_id: str,
        body: WebhookEndpointUpdate,
        actor: Actor,
    ) -> WebhookEndpoint:
        """Change an endpoint's URL, events, note or whether it is on."""
        endpoint = await self._locked(session, workspace_id, endpoint_id)
        if body.url is not None:
            check_url(body.url, webhook_sender.allow_private)
            endpoint.url = body.url
        if body.event_types is not None:
            endpoint.event_types = [str(kind) for kind in dict.fromkeys(body.event_types)]
        if body.description is not None:
            endpoint.description = body.description
        if body.enabled is not None:
            endpoint.enabled = body.enabled
        endpoint.updated_at = utcnow()
        await _audit(session, "webhook.updated", actor, endpoint)
        return endpoint

    async def delete(
        self, session: AsyncSession, workspace_id: str, endpoint_id: str, actor: Actor
    ) -> None:
        """Remove an endpoint with its deliveries."""
        endpoint = await self._locked(session, workspace_id, endpoint_id)
        await _audit(session, "webhook.deleted", actor, endpoint)
        await EndpointRepository(session, workspace_id).delete(endpoint)

    async def rotate_secret(
        self, session: AsyncSession, workspace_id: str, endpoint_id: str, actor: Actor
    ) -> WebhookSecretRead:
        """Replace an endpoint's secret at once; the new one is shown this once."""
        endpoint = await self._locked(session, workspace_id, endpoint_id)
        secret = new_secret()
        endpoint.secret, endpoint.updated_at = seal_secret(endpoint.id, secret), utcnow()
        await _audit(session, "webhook.secret_rotated", actor, endpoint)
        return WebhookSecretRead(
            endpoint=WebhookEndpointRead.model_validate(endpoint), secret=secret
        )

    async def deliveries(
        self, session: AsyncSession, workspace_id: str, endpoint_id: str
    ) -> list[WebhookDeliveryRead]:
        """Return an endpoint's newest deliveries with their attempts."""
        await self.get(session, workspace_id, endpoint_id)
        rows = await DeliveryRepository(session, workspace_id).of_endpoint(
            endpoint_id, DELIVERIES_LISTED
        )
        attempts = await AttemptRepository(session, workspace_id).of_deliveries(
            [row.id for row in rows]
        )
        by_delivery: dict[str, list[WebhookAttemptRead]] = {row.id: [] for row in rows}
        for attempt in attempts:
            by_delivery[attempt.delivery_id].append(WebhookAttemptRead.model_validate(attempt))
        return [
            WebhookDeliveryRead.model_validate(row).model_copy(
                update={"attempt_log": by_delivery[row.id]}
            )
            for row in rows
        ]

    async def send_test(
        self, session: AsyncSession, workspace_id: str, endpoint_id: str
    ) -> WebhookDeliveryRead:
        """Queue a `webhook.test` event to one endpoint (whatever it subscribes to)."""
        endpoint = await self.get(session, workspace_id, endpoint_id)
        delivery = await self._queue(session, endpoint, new_id(), TEST_EVENT, {"test": True})
        return WebhookDeliveryRead.model_validate(delivery)

    async def fan_out(
        self,
        session: AsyncSession,
        workspace_id: str,
        event_id: str,
        data: dict[str, Any],
    ) -> int:
        """Queue one delivery per enabled endpoint that subscribes to the event."""
        repository = EndpointRepository(session, workspace_id)
        endpoints = await repository.enabled()
        if not endpoints:
            return 0  # switched off since the event was queued (no job where none is on)
        event_type = await repository.event_name(event_id)
        if event_type is None:
            # Pruned: domain events are kept 30 days (core.retention), and a fan-out runs
            # within a minute of its event unless its job was held back far longer.
            logger.warning(
                "webhooks: a domain event is no longer stored; nothing was delivered",
                extra={"event_id": event_id},
            )
            return 0
        chosen = [endpoint for endpoint in endpoints if event_type in endpoint.event_types]
        for endpoint in chosen:
            await self._queue(session, endpoint, event_id, event_type, data)
        return len(chosen)

    async def _queue(
        self,
        session: AsyncSession,
        endpoint: WebhookEndpoint,
        event_id: str,
        event_type: str,
        data: dict[str, Any],
    ) -> WebhookDelivery:
        payload = {"type": event_type, "timestamp": utcnow().isoformat(), "data": data}
        delivery = await DeliveryRepository(session, endpoint.workspace_id).add(
            WebhookDelivery(
                endpoint_id=endpoint.id, event_id=event_id,
                event_type=event_type, payload=payload, status=DeliveryStatus.pending, attempts=0,
            )
        )  # fmt: skip
        enqueue(session, DELIVER_JOB, workspace_id=endpoint.workspace_id, delivery_id=delivery.id)
        return delivery

    async def _locked(
        self, session: AsyncSession, workspace_id: str, endpoint_id: str
    ) -> WebhookEndpoint:
        endpoint = await EndpointRepository(session, workspace_id).locked(endpoint_id)
        if endpoint is None:
            raise WebhookEndpointNotFound("No such webhook endpoint in this workspace.")
        return endpoint


async def _audit(
    session: AsyncSession, action: str, actor: Actor, endpoint: WebhookEndpoint
) -> None:
    """Audit a change to an endpoint: ids and settings only (a URL may hold a token)."""
    await audit.record(
        session, action, actor, workspace_id=endpoint.workspace_id, target_type="webhook",
        target_id=endpoint.id,
        details={"event_types": list(endpoint.event_types), "enabled": endpoint.enabled},
    )  # fmt: skip


webhooks = WebhookService()
