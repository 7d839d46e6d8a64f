"""Every SQL statement of messaging."""

from __future__ import annotations

from sqlalchemy import update

from rapport.core.repository import TenantRepository
from rapport.messaging.enums import DeliveryStatus
from rapport.messaging.models import OutboundEmail


class OutboundEmailRepository(TenantRepository[OutboundEmail]):
    model = OutboundEmail

    async def for_delivery(self, outbound_email_id: str) -> OutboundEmail | None:
        """Return an outbound email, locked: one attempt at a time changes it."""
        query = self.base_query().where(OutboundEmail.id == outbound_email_id)
        return await self.one_or_none(query.with_for_update())

    async def record(self, outbound_email_id: str, **values: object) -> None:
        """Write an attempt's outcome, unless the email left the queue meanwhile."""
        await self.session.execute(
            update(OutboundEmail)
            .where(
                OutboundEmail.workspace_id == self.workspace_id,
                OutboundEmail.id == outbound_email_id,
                OutboundEmail.status == DeliveryStatus.queued,
            )
            .values(**values)
        )
