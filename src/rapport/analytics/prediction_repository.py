"""Every SQL statement about customer predictions and the models that made them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Subquery, delete, select

from rapport.analytics.models import CustomerPrediction, PredictionModel
from rapport.core.clock import utcnow
from rapport.core.ids import new_ids
from rapport.core.repository import TenantRepository

# Churn risk bands of the customers list, as [low, high) bounds, for repeat buyers; "single"
# keeps the buyers of one purchase day, whose risk the model cannot estimate.
CHURN_BANDS: dict[str, tuple[float, float]] = {
    "low": (0.0, 0.3),
    "medium": (0.3, 0.7),
    "high": (0.7, 1.01),
}
SINGLE = "single"
UPDATED = (
    "model_id",
    "repeat_purchases",
    "churn_risk",
    "p_alive",
    "expected_orders",
    "expected_value",
    "currency",
)


class PredictionModelRepository(TenantRepository[PredictionModel]):
    model = PredictionModel

    async def latest(self) -> PredictionModel | None:
        """Return the workspace's latest model."""
        return await self.one_or_none(
            self.base_query().order_by(PredictionModel.as_of.desc(), PredictionModel.id.desc())
        )

    async def delete_older(self, model: PredictionModel) -> None:
        """Delete the models fitted before this one (their predictions go with them)."""
        await self.session.execute(
            delete(PredictionModel).where(
                PredictionModel.workspace_id == self.workspace_id,
                PredictionModel.id != model.id,
                PredictionModel.as_of <= model.as_of,
            )
        )


class PredictionRepository(TenantRepository[CustomerPrediction]):
    model = CustomerPrediction

    async def of(self, customer_ids: list[str]) -> Sequence[CustomerPrediction]:
        """Return the predictions of some profiles."""
        return await self.all(
            self.base_query().where(CustomerPrediction.customer_id.in_(customer_ids))
        )

    async def upsert(self, rows: list[dict[str, Any]]) -> None:
        """Insert or replace predictions, one row per profile, in one statement."""
        if not rows:
            return
        now = utcnow()
        values = [
            {"id": row_id, "workspace_id": self.workspace_id, "created_at": now, **row}
            for row_id, row in zip(new_ids(len(rows)), rows, strict=True)
        ]
        statement = self.upserting().values(values)
        updated = {column: statement.excluded[column] for column in (*UPDATED, "computed_at")}
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["workspace_id", "customer_id"], set_=updated
            )
        )


def churn_risk_profiles(workspace_id: str, band: str) -> Select[Any] | None:
    """Select the profiles whose churn risk falls in a band (None: no such band)."""
    selected = select(CustomerPrediction.customer_id).where(
        CustomerPrediction.workspace_id == workspace_id
    )
    if band == SINGLE:
        return selected.where(CustomerPrediction.repeat_purchases == 0)
    if band not in CHURN_BANDS:
        return None
    low, high = CHURN_BANDS[band]
    return selected.where(
        CustomerPrediction.repeat_purchases > 0,
        CustomerPrediction.churn_risk >= low,
        CustomerPrediction.churn_risk < high,
    )


def expected_value_ranking(workspace_id: str) -> Subquery:
    """Return (customer_id, value) rows of expected values, to sort profiles by."""
    return (
        select(
            CustomerPrediction.customer_id.label("customer_id"),
            CustomerPrediction.expected_value.label("value"),
        )
        .where(CustomerPrediction.workspace_id == workspace_id)
        .subquery("predicted")
    )


def as_money(value: float) -> Decimal:
    """Round a model's amount to cents."""
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))
