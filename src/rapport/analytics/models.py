"""Tables owned by analytics (per-customer predictions; metric aggregates)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rapport.core.db import Base, TenantMixin, UtcDateTime


class PredictionModel(TenantMixin, Base):
    """One fit of the lifetime models for a workspace: its parameters are the version every
    prediction made with it names."""

    __tablename__ = "customer_prediction_models"

    as_of: Mapped[datetime]
    customers: Mapped[int] = mapped_column(Integer)
    # {"bg_nbd": {"r", "alpha", "a", "b"}, "gamma_gamma": {currency: {"p", "q", "gamma"}},
    #  "period_days": 7}
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    horizon_months: Mapped[int] = mapped_column(Integer)
    monthly_discount: Mapped[float] = mapped_column(Float)


class CustomerPrediction(TenantMixin, Base):
    """A live profile's churn risk and expected value, from the workspace's latest model."""

    __tablename__ = "customer_predictions"
    __table_args__ = (
        UniqueConstraint("workspace_id", "customer_id"),
        Index("ix_customer_predictions_churn", "workspace_id", "churn_risk"),
        Index("ix_customer_predictions_value", "workspace_id", "expected_value"),
    )

    customer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="CASCADE")
    )
    model_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("customer_prediction_models.id", ondelete="CASCADE"), index=True
    )
    # Purchase days after the first: with none, BG/NBD cannot see a customer leave (P(alive)
    # is 1), so the console says "not estimated yet" instead of a low risk.
    repeat_purchases: Mapped[int] = mapped_column(Integer)
    churn_risk: Mapped[float] = mapped_column(Float)
    p_alive: Mapped[float] = mapped_column(Float)
    expected_orders: Mapped[float] = mapped_column(Float)
    # Null when the customer's orders are in several currencies (no one sum is meaningful).
    expected_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    computed_at: Mapped[datetime]


STRETCH_INDEX = (
    "workspace_id", "ended_at", "began_at", "merged_into_id", "channel", "team_id", "assignee_id",
)  # fmt: skip


class BacklogStretch(Base):
    """A stretch (began_at, ended_at] in which a conversation counts in the backlog (ended_at
    None: it still does). Written only by database triggers on conversations and their cycle
    events (migration 20261202_0023), in the same transaction as those writes. No foreign key
    to the conversation: the triggers delete its rows with it."""

    __tablename__ = "analytics_backlog_stretches"
    __table_args__ = (
        # Covering: the backlog at t reads this index alone.
        Index("ix_analytics_backlog_stretches_end", *STRETCH_INDEX),
    )

    conversation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    began_at: Mapped[datetime] = mapped_column(UtcDateTime(timezone=True), primary_key=True)
    ended_at: Mapped[datetime | None]
    workspace_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    # The conversation's current channel, team, assignee and merge (the backlog's filters),
    # copied by the triggers whenever one of them changes.
    channel: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str | None] = mapped_column(String(32))
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    merged_into_id: Mapped[str | None] = mapped_column(String(32))


class DayDigest(Base):
    """One closed local day of what a metric source reads, as columns (`analytics.digests`):
    built by a background job, deleted by database triggers (migration 20261205_0031) as
    soon as a row it was built from is inserted, changed or deleted."""

    __tablename__ = "analytics_day_digests"
    # The primary key also serves the triggers: the digests covering an instant are among
    # those that start in the two days before it.
    workspace_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime(timezone=True), primary_key=True)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime(timezone=True))
    # What else the digest depends on (a business calendar's fingerprint); "" for nothing.
    variant: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    built_at: Mapped[datetime]
