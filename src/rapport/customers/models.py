"""Profiles, identifiers, search terms, merges and consent records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rapport.core.clock import utcnow
from rapport.core.db import Base, TenantMixin


def customer_fk() -> ForeignKey:
    """Return a new foreign key to a profile (one object per column)."""
    return ForeignKey("customers.id", ondelete="CASCADE")


class Customer(TenantMixin, Base):
    """One person's 360 profile; a merged profile points at the one it joined."""

    __tablename__ = "customers"
    # The console list's sorts: led by the workspace and the "not merged" filter, ending in
    # the id its keyset pages by.
    __table_args__ = tuple(
        Index(f"ix_customers_list_{name}", "workspace_id", "merged_into_id", column, "id")
        for name, column in (
            ("seen", "last_seen_at"),
            ("orders", "orders_count"),
            ("revenue", "revenue"),
        )
    )

    merged_into_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # {"trait": {"value": ..., "source": ..., "at": iso}}, sealed with AES-GCM (names, emails).
    traits: Mapped[bytes | None] = mapped_column(LargeBinary)
    # What unverified calls claimed ({"identifiers": [...], "traits": {...}}), sealed; shown
    # as unverified, never used as the profile's identifiers or traits.
    claims: Mapped[bytes | None] = mapped_column(LargeBinary)
    first_seen_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    orders_count: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    last_order_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Identifier(TenantMixin, Base):
    """One identifier of a profile: encrypted value, keyed blind index for lookup."""

    __tablename__ = "customer_identifiers"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "blind_index"),)

    customer_id: Mapped[str] = mapped_column(String(32), customer_fk(), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    blind_index: Mapped[str] = mapped_column(String(64))
    value: Mapped[bytes] = mapped_column(LargeBinary)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchTerm(TenantMixin, Base):
    """A blind index of a name (full, first, last) so staff can find a profile by name."""

    __tablename__ = "customer_search_terms"
    __table_args__ = (Index("ix_customer_search_terms_lookup", "workspace_id", "blind_index"),)

    customer_id: Mapped[str] = mapped_column(String(32), customer_fk(), index=True)
    blind_index: Mapped[str] = mapped_column(String(64))


class Merge(TenantMixin, Base):
    """A logged merge of `loser` into `winner`, with what moved, so it can be undone."""

    __tablename__ = "customer_merges"

    winner_id: Mapped[str] = mapped_column(String(32), customer_fk(), index=True)
    loser_id: Mapped[str] = mapped_column(String(32), customer_fk(), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    identifier_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"trait": {"before": winner's trait or null, "taken": the loser's}}, sealed (values are
    # PII), so an undo can give the winner back what it had.
    trait_changes: Mapped[bytes | None] = mapped_column(LargeBinary)
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String(100))


class ConsentRecord(TenantMixin, Base):
    """One append-only grant or withdrawal of consent for a purpose."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_lookup", "workspace_id", "customer_id", "purpose"),)

    customer_id: Mapped[str] = mapped_column(String(32), customer_fk())
    purpose: Mapped[str] = mapped_column(String(64))
    granted: Mapped[bool] = mapped_column(Boolean)
    notice_version: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
