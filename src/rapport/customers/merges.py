"""Merging profiles and undoing merges; every merge is logged with what moved."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.outbox import publish
from rapport.customers.errors import (
    CannotMerge,
    CustomerNotFound,
    MergeAlreadyUndone,
    MergeNotFound,
)
from rapport.customers.events import CUSTOMER_MERGED, CUSTOMER_UNMERGED
from rapport.customers.models import Customer, Merge
from rapport.customers.repository import CustomerRepository, IdentifierRepository, MergeRepository
from rapport.customers.traits import combine_traits


class MergeService:
    async def merge(
        self,
        session: AsyncSession,
        workspace_id: str,
        *,
        winner_id: str,
        loser_id: str,
        reason: str,
        actor: str,
    ) -> Merge:
        """Join `loser` into `winner`: identifiers move, history follows, the log remembers."""
        winner, loser = await self._pair(session, workspace_id, winner_id, loser_id)
        identifiers = IdentifierRepository(session, workspace_id)
        moved = await identifiers.ids_of(loser.id)
        await identifiers.move(moved, loser.id, winner.id)
        loser.merged_into_id = winner.id
        _combine_activity(winner, loser)
        combine_traits(winner, loser)
        merge = await MergeRepository(session, workspace_id).add(
            Merge(
                winner_id=winner.id,
                loser_id=loser.id,
                reason=reason,
                actor=actor,
                identifier_ids=moved,
            )
        )
        publish(
            session,
            CUSTOMER_MERGED,
            workspace_id=workspace_id,
            merge_id=merge.id,
            winner_id=winner.id,
            loser_id=loser.id,
            reason=reason,
        )
        return merge

    async def unmerge(
        self, session: AsyncSession, workspace_id: str, merge_id: str, actor: str
    ) -> Merge:
        """Undo a merge: the joined profile gets its identifiers back and lives again."""
        merge = await MergeRepository(session, workspace_id).get(merge_id)
        if merge is None:
            raise MergeNotFound("No such merge in this workspace.")
        if merge.undone_at is not None:
            raise MergeAlreadyUndone("This merge was already undone.")
        customers = CustomerRepository(session, workspace_id)
        winner, loser = await customers.get(merge.winner_id), await customers.get(merge.loser_id)
        if winner is None or loser is None or winner.merged_into_id is not None:
            raise CannotMerge("Undo the later merge of the remaining profile first.")
        await IdentifierRepository(session, workspace_id).move(
            merge.identifier_ids, winner.id, loser.id
        )
        loser.merged_into_id = None
        merge.undone_at, merge.undone_by = utcnow(), actor
        publish(
            session,
            CUSTOMER_UNMERGED,
            workspace_id=workspace_id,
            merge_id=merge.id,
            winner_id=winner.id,
            loser_id=loser.id,
        )
        return merge

    async def history(
        self, session: AsyncSession, workspace_id: str, customer_id: str
    ) -> Sequence[Merge]:
        """Return the merges a profile took part in, newest first."""
        return await MergeRepository(session, workspace_id).for_customer(customer_id)

    async def _pair(
        self, session: AsyncSession, workspace_id: str, winner_id: str, loser_id: str
    ) -> tuple[Customer, Customer]:
        customers = CustomerRepository(session, workspace_id)
        winner, loser = await customers.get(winner_id), await customers.get(loser_id)
        if winner is None or loser is None:
            raise CustomerNotFound("No such customer profile in this workspace.")
        if winner.id == loser.id or winner.merged_into_id or loser.merged_into_id:
            raise CannotMerge("Only two different, unmerged profiles can be merged.")
        return winner, loser


def _combine_activity(winner: Customer, loser: Customer) -> None:
    seen_first = [moment for moment in (winner.first_seen_at, loser.first_seen_at) if moment]
    seen_last = [moment for moment in (winner.last_seen_at, loser.last_seen_at) if moment]
    winner.first_seen_at = min(seen_first) if seen_first else None
    winner.last_seen_at = max(seen_last) if seen_last else None
    winner.channels = sorted(set(winner.channels) | set(loser.channels))


merges = MergeService()
