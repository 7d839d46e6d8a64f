"""Every SQL statement of the webhooks domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.outbox import DomainEvent
from rapport.core.repository import TenantRepository
from rapport.core.retention import delete_oldest
from rapport.webhooks.enums import DeliveryStatus
from rapport.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class EndpointRepository(TenantRepository[WebhookEndpoint]):
    model = WebhookEndpoint

    async def listed(self) -> Sequence[WebhookEndpoint]:
        """Return the workspace's endpoints, oldest first."""
        return await self.all(self.base_query().order_by(WebhookEndpoint.id))

    async def enabled(self) -> Sequence[WebhookEndpoint]:
        """Return the workspace's endpoints that are on."""
        query = self.prepared(
            "enabled",
            lambda: (
                self.scoped().where(WebhookEndpoint.enabled.is_(True)).order_by(WebhookEndpoint.id)
            ),
        )  # every domain event's webhook fan-out starts here
        return await self.all(query, self.params())

    async def counted(self) -> int:
        """Return how many endpoints the workspace has."""
        query = select(func.count()).where(WebhookEndpoint.workspace_id == self.workspace_id)
        return int((await self.session.execute(query)).scalar_one())

    async def event_name(self, event_id: str) -> str | None:
        """Return the name of one of the workspace's domain events."""
        query = select(DomainEvent.name).where(
            DomainEvent.workspace_id == self.workspace_id, DomainEvent.id == event_id
        )
        found = (await self.session.execute(query)).scalar_one_or_none()
        return None if found is None else str(found)

    async def locked(self, endpoint_id: str) -> WebhookEndpoint | None:
        """Return an endpoint, locked for a change."""
        query = self.base_query().where(WebhookEndpoint.id == endpoint_id)
        return await self.one_or_none(query.with_for_update())


class DeliveryRepository(TenantRepository[WebhookDelivery]):
    model = WebhookDelivery

    async def for_delivery(self, delivery_id: str) -> WebhookDelivery | None:
        """Return a delivery, locked: one attempt at a time changes it."""
        query = self.base_query().where(WebhookDelivery.id == delivery_id)
        return await self.one_or_none(query.with_for_update())

    async def of_endpoint(self, endpoint_id: str, limit: int) -> Sequence[WebhookDelivery]:
        """Return an endpoint's newest deliveries."""
        return await self.all(
            self.base_query()
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )

    async def record(self, delivery_id: str, **values: object) -> None:
        """Write an attempt's outcome, unless the delivery is no longer pending."""
        await self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.workspace_id == self.workspace_id,
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == DeliveryStatus.pending,
            )
            .values(**values)
        )


class AttemptRepository(TenantRepository[WebhookAttempt]):
    model = WebhookAttempt

    async def of_deliveries(self, delivery_ids: list[str]) -> Sequence[WebhookAttempt]:
        """Return the attempts of some deliveries, oldest first."""
        if not delivery_ids:
            return []
        return await self.all(
            self.base_query()
            .where(WebhookAttempt.delivery_id.in_(delivery_ids))
            .order_by(WebhookAttempt.id)
        )


async def prune_settled(
    session: AsyncSession, before: datetime, limit: int, after: str | None
) -> str | None:
    """Delete, of a chunk of deliveries made before `before` (every workspace's, oldest
    first), the settled ones (delivered or given up), their attempts with them (cascade);
    return where the next chunk starts."""
    settled = WebhookDelivery.status.in_((DeliveryStatus.delivered, DeliveryStatus.failed))
    return await delete_oldest(session, WebhookDelivery, before, limit, after, settled)
