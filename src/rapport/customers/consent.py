"""Consent: append-only records; nothing is granted until granted; one question for all."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.outbox import publish
from rapport.customers.enums import ConsentPurpose
from rapport.customers.events import CONSENT_CHANGED
from rapport.customers.models import ConsentRecord
from rapport.customers.repository import ConsentRepository, CustomerRepository
from rapport.customers.schemas import ConsentChange, ConsentRead, ConsentRecordRead
from rapport.identity.audit import Actor, audit


def purpose_of(category: str) -> str:
    """Map a Segment consent category to a purpose name (`Marketing Email` -> marketing_email)."""
    words = category.replace("\x00", "").strip().lower().replace("-", " ").split()
    return "_".join(words)[:64]


class ConsentService:
    async def may_use(
        self, session: AsyncSession, workspace_id: str, customer_id: str, purpose: ConsentPurpose
    ) -> bool:
        """Tell whether this customer's data may be used for `purpose` (default: no)."""
        group = await CustomerRepository(session, workspace_id).group_ids(customer_id)
        latest = await ConsentRepository(session, workspace_id).latest(group, str(purpose))
        return latest is not None and latest.granted

    async def record(
        self,
        session: AsyncSession,
        workspace_id: str,
        customer_id: str,
        change: ConsentChange,
        *,
        actor: str,
    ) -> ConsentRecord:
        """Append a grant or withdrawal of one purpose."""
        return await self.record_raw(
            session,
            workspace_id,
            customer_id,
            purpose=str(change.purpose),
            granted=change.granted,
            notice_version=change.notice_version,
            channel=change.channel,
            actor=actor,
        )

    async def record_by(
        self,
        session: AsyncSession,
        workspace_id: str,
        customer_id: str,
        change: ConsentChange,
        *,
        actor: str,
        audited_by: Actor,
    ) -> ConsentRecord:
        """Append a grant or withdrawal made by staff or a secret API key, and audit it. The
        audit row holds ids, the purpose and the states only: never free text a caller typed
        (notice version, channel), since an audit row can never be erased."""
        group = await CustomerRepository(session, workspace_id).group_ids(customer_id)
        previous = await ConsentRepository(session, workspace_id).latest(group, str(change.purpose))
        record = await self.record(session, workspace_id, customer_id, change, actor=actor)
        await audit.record(
            session,
            "customer.consent_changed",
            audited_by,
            workspace_id=workspace_id,
            target_type="customer",
            target_id=customer_id,
            details={
                "consent_record_id": record.id,
                "purpose": record.purpose,
                "granted": record.granted,
                "was_granted": previous is not None and previous.granted,
            },
        )
        return record

    async def record_raw(
        self,
        session: AsyncSession,
        workspace_id: str,
        customer_id: str,
        *,
        purpose: str,
        granted: bool,
        notice_version: str | None,
        channel: str,
        actor: str,
    ) -> ConsentRecord:
        """Append a record (purposes and Segment categories); publish when the state changes."""
        repository = ConsentRepository(session, workspace_id)
        group = await CustomerRepository(session, workspace_id).group_ids(customer_id)
        previous = await repository.latest(group, purpose)
        record = await repository.add(
            ConsentRecord(
                customer_id=customer_id,
                purpose=purpose,
                granted=granted,
                notice_version=notice_version,
                channel=channel[:32],
                actor=actor[:100],
                recorded_at=utcnow(),
            )
        )
        if (previous is not None and previous.granted) != granted:
            publish(
                session,
                CONSENT_CHANGED,
                workspace_id=workspace_id,
                customer_id=customer_id,
                purpose=purpose,
                granted=granted,
            )
        return record

    async def record_categories(
        self,
        session: AsyncSession,
        workspace_id: str,
        customer_id: str,
        preferences: dict[str, bool],
        *,
        channel: str,
        actor: str,
    ) -> None:
        """Record Segment's `context.consent.categoryPreferences` where they differ from now."""
        group = await CustomerRepository(session, workspace_id).group_ids(customer_id)
        repository = ConsentRepository(session, workspace_id)
        for category, granted in sorted(preferences.items()):
            purpose = purpose_of(category)
            latest = await repository.latest(group, purpose)
            if purpose and (latest is None or latest.granted != granted):
                await self.record_raw(
                    session,
                    workspace_id,
                    customer_id,
                    purpose=purpose,
                    granted=granted,
                    notice_version=None,
                    channel=channel,
                    actor=actor,
                )

    async def read(self, session: AsyncSession, workspace_id: str, customer_id: str) -> ConsentRead:
        """Return the current state of every purpose and the full history."""
        group = await CustomerRepository(session, workspace_id).group_ids(customer_id)
        history = await ConsentRepository(session, workspace_id).history(group)
        purposes = {str(purpose): False for purpose in ConsentPurpose}
        for record in reversed(history):
            purposes[record.purpose] = record.granted
        return ConsentRead(
            purposes=purposes,
            history=[ConsentRecordRead.model_validate(record) for record in history],
        )


consent = ConsentService()
