"""customer predictions (churn risk, expected value)

Revision ID: 20261202_0016
Revises: 20261202_0015
Create Date: 2026-12-02 09:00:00

- customer_prediction_models: one fit of BG/NBD and Gamma-Gamma per workspace and run (its
  parameters, the time it looked from, the horizon and discount of expected values).
- customer_predictions: one row per live profile with paid orders: churn risk, P(alive),
  expected orders and value over the horizon (with currency), when computed, by which model;
  indexed for the customers list's churn-risk filter and expected-value sort.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0016"
down_revision: str | None = "20261202_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tenant_columns(table: str) -> list[Any]:
    return [
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "customer_prediction_models",
        sa.Column("as_of", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("horizon_months", sa.Integer(), nullable=False),
        sa.Column("monthly_discount", sa.Float(), nullable=False),
        *_tenant_columns("customer_prediction_models"),
    )
    op.create_index(
        op.f("ix_customer_prediction_models_workspace_id"),
        "customer_prediction_models",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "customer_predictions",
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=32), nullable=False),
        sa.Column("repeat_purchases", sa.Integer(), nullable=False),
        sa.Column("churn_risk", sa.Float(), nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=False),
        sa.Column("expected_orders", sa.Float(), nullable=False),
        sa.Column("expected_value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("computed_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        *_tenant_columns("customer_predictions"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_predictions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["customer_prediction_models.id"],
            name=op.f("fk_customer_predictions_model_id_customer_prediction_models"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "workspace_id",
            "customer_id",
            name=op.f("uq_customer_predictions_workspace_id_customer_id"),
        ),
    )
    op.create_index(
        "ix_customer_predictions_churn", "customer_predictions", ["workspace_id", "churn_risk"]
    )
    op.create_index(
        "ix_customer_predictions_value", "customer_predictions", ["workspace_id", "expected_value"]
    )
    op.create_index(
        op.f("ix_customer_predictions_model_id"), "customer_predictions", ["model_id"], unique=False
    )
    op.create_index(
        op.f("ix_customer_predictions_workspace_id"),
        "customer_predictions",
        ["workspace_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("customer_predictions")
    op.drop_table("customer_prediction_models")
