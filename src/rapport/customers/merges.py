"""Merging profiles and undoing merges; every merge is logged with what moved."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.ids import new_id
from rapport.core.outbox import publish
from rapport.customers.enums import MergeReason
from rapport.customers.errors import (
    CannotMerge,
    CustomerNotFound,
    MergeAlreadyUndone,
    MergeNotFound,
)
from rapport.customers.events import CUSTOMER_MERGED, CUSTOMER_UNMERGED
from rapport.customers.models import Customer, Merge
from rapport.customers.pii import seal_json, unseal_json
from rapport.customers.recompute import Activity, recompute
from rapport.customers.repository import (
    CustomerRepository,
    IdentifierRepository,
    MergeRepository,
    SearchTermRepository,
)
from rapport.customers.traits import (
    TraitChanges,
    combine_traits,
    name_indexes,
    read_traits,
    restore_traits,
)
from rapport.identity.audit import Actor, audit


def seal_changes(changes: TraitChanges, merge_id: str) -> bytes | None:
    """Seal what a merge did to the winner's traits (None when it changed nothing)."""
    return seal_json(changes, "customer_merges", "trait_changes", merge_id) if changes else None


def trait_changes(merge: Merge) -> TraitChanges:
    """Return what a merge did to the winner's traits."""
    return unseal_json(merge.trait_changes, "customer_merges", "trait_changes", merge.id)


class MergeService:
    async def merge(
        self,
        session: AsyncSession,
        workspace_id: str,
        *,
        winner_id: str,
        loser_id: str,
        reason: MergeReason,
        actor: str,
        audited_by: Actor | None = None,
    ) -> Merge:
        """Join `loser` into `winner`: identifiers move, history follows, the log remembers.
        A merge made by staff or an API key (`audited_by`) is also written to the audit log."""
        # The graph is locked as event processing locks it, so a chunk being resolved never
        # sees half a merge (re-entrant: processing itself merges while holding it).
        await CustomerRepository(session, workspace_id).lock_workspace()
        winner, loser = await self._pair(session, workspace_id, winner_id, loser_id)
        identifiers = IdentifierRepository(session, workspace_id)
        moved = await identifiers.ids_of(loser.id)
        await identifiers.move(moved, loser.id, winner.id)
        loser.merged_into_id = winner.id
        # The group's activity is its profiles' together; order totals are recomputed.
        await recompute.profiles(session, workspace_id, [winner.id], Activity.combine)
        changes = combine_traits(winner, loser)
        merge_id = new_id()
        merge = await MergeRepository(session, workspace_id).add(
            Merge(
                id=merge_id,
                winner_id=winner.id,
                loser_id=loser.id,
                reason=reason,
                actor=actor,
                identifier_ids=moved,
                trait_changes=seal_changes(changes, merge_id),
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
        if audited_by is not None:
            # Counts only: trait names are whatever senders chose, and audit rows never go away.
            details: dict[str, object] = {
                "identifiers_moved": len(moved),
                "traits_taken": len(changes),
            }
            await _audit(session, "customer.merged", audited_by, merge, details)
        return merge

    async def unmerge(
        self,
        session: AsyncSession,
        workspace_id: str,
        merge_id: str,
        actor: str,
        *,
        audited_by: Actor | None = None,
    ) -> Merge:
        """Undo a merge: the joined profile gets its identifiers back and lives again, and the
        winner gets back the traits the merge replaced (unless it was sent newer ones since)."""
        await CustomerRepository(session, workspace_id).lock_workspace()
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
        restored = await self._restore_traits(session, workspace_id, winner, merge)
        # What the winner's group lost cannot be subtracted: both are rebuilt from the facts.
        await recompute.profiles(session, workspace_id, [winner.id, loser.id], Activity.rebuild)
        merge.undone_at, merge.undone_by = utcnow(), actor
        publish(
            session,
            CUSTOMER_UNMERGED,
            workspace_id=workspace_id,
            merge_id=merge.id,
            winner_id=winner.id,
            loser_id=loser.id,
        )
        if audited_by is not None:
            details: dict[str, object] = {
                "identifiers_returned": len(merge.identifier_ids),
                "traits_restored": len(restored),
            }
            await _audit(session, "customer.unmerged", audited_by, merge, details)
        return merge

    async def history(
        self, session: AsyncSession, workspace_id: str, customer_id: str
    ) -> Sequence[Merge]:
        """Return the merges a profile took part in, newest first."""
        return await MergeRepository(session, workspace_id).for_customer(customer_id)

    async def groups(
        self, session: AsyncSession, workspace_id: str, customer_ids: list[str]
    ) -> dict[str, list[str]]:
        """Return the live profile of each of these profiles, with every profile merged into
        it (one query per level of merges, not per profile)."""
        repository = CustomerRepository(session, workspace_id)
        live = {customer_id: customer_id for customer_id in customer_ids}
        for _ in range(64):
            joined = await repository.joined(sorted(set(live.values())))
            if not joined:
                break
            live = {member: joined.get(root, root) for member, root in live.items()}
        groups: dict[str, list[str]] = {root: [root] for root in live.values()}
        root_of = {root: root for root in groups}
        frontier = list(groups)
        while frontier:
            found = await repository.merged_into(frontier)
            for member, parent in found:
                root_of[member] = root_of[parent]
                groups[root_of[parent]].append(member)
            frontier = [member for member, _ in found]
        return groups

    async def _restore_traits(
        self, session: AsyncSession, workspace_id: str, winner: Customer, merge: Merge
    ) -> list[str]:
        """Put back the winner's own traits and name search terms; return the names restored."""
        changes = trait_changes(merge)
        if not changes:
            return []
        earlier = [
            trait_changes(other)
            for other in await self.history(session, workspace_id, winner.id)
            if other.winner_id == winner.id and other.undone_at is not None
        ]
        restored = restore_traits(winner, changes, earlier)
        if restored:
            indexes = name_indexes(read_traits(winner))
            await SearchTermRepository(session, workspace_id).replace(winner.id, indexes)
        return restored

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


async def _audit(
    session: AsyncSession, action: str, actor: Actor, merge: Merge, details: dict[str, object]
) -> None:
    """Record a staff merge or undo: ids and counts only, never values."""
    await audit.record(
        session,
        action,
        actor,
        workspace_id=merge.workspace_id,
        target_type="customer",
        target_id=merge.winner_id,
        details={"merge_id": merge.id, "loser_id": merge.loser_id, **details},
    )


merges = MergeService()
