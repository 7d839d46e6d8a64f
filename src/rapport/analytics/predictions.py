"""Per-customer churn risk and expected value: BG/NBD and Gamma-Gamma (analytics/clv.py)
fitted on a workspace's purchase histories, stored per live profile a page per transaction.

Time is counted in weeks; expected values cover the next HORIZON_MONTHS months (months of
365.25 / 12 days), optionally discounted per month, in the currency of the customer's orders.
Churn risk is 1 - P(alive); a customer without a repeat purchase is alive for BG/NBD, so
the customer page says their risk is not estimated yet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics import clv
from rapport.analytics.models import PredictionModel
from rapport.analytics.prediction_repository import (
    CHURN_BANDS,
    SINGLE,
    PredictionModelRepository,
    PredictionRepository,
    as_money,
)
from rapport.core.clock import as_utc, utcnow
from rapport.events.purchase_history import PurchaseHistory, purchase_histories

PERIOD_DAYS = 7.0
PERIODS_PER_MONTH = 365.25 / 12 / PERIOD_DAYS
HORIZON_MONTHS = 12
MONTHLY_DISCOUNT = 0.0
# Fewer buyers than this (or no repeat buyer) and no model is fitted: nothing is stored.
MINIMUM_CUSTOMERS = 20
# Spend per purchase is modelled per currency with at least this many repeat buyers in it.
MINIMUM_REPEAT_CUSTOMERS = 10
PAGE = 500
# The customers list's churn-risk filter: its values and what the console calls them.
CHURN_FILTERS = {
    "high": "High",
    "medium": "Medium",
    "low": "Low",
    SINGLE: "One order so far (not estimated)",
}


@dataclass(frozen=True)
class StoredPage:
    """How many predictions a page stored and where the next starts (None: done)."""

    stored: int
    next_after: str | None


@dataclass(frozen=True)
class PredictionView:
    """A customer's prediction as staff read it."""

    churn_risk: float
    churn_band: str
    p_alive: float
    repeat_buyer: bool  # False: one purchase day so far, BG/NBD cannot see them leave
    expected_orders: float
    expected_value: Decimal | None
    currency: str | None
    horizon_months: int
    computed_at: datetime

    @property
    def churn_percent(self) -> int:
        """Return the churn risk in whole percent."""
        return round(self.churn_risk * 100)


def churn_band(risk: float) -> str:
    """Return "low", "medium" or "high" for a churn risk."""
    return next(name for name, (low, high) in CHURN_BANDS.items() if low <= risk < high)


def _arrays(histories: list[PurchaseHistory]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.array([h.frequency for h in histories], dtype=np.float64)
    t_x = np.array([h.recency_days for h in histories], dtype=np.float64) / PERIOD_DAYS
    age = np.array([h.age_days for h in histories], dtype=np.float64) / PERIOD_DAYS
    return x, t_x, age


def fit_parameters(histories: list[PurchaseHistory]) -> dict[str, Any] | None:
    """Fit BG/NBD on every history and Gamma-Gamma per currency; None with too little data."""
    x, t_x, age = _arrays(histories)
    if x.size < MINIMUM_CUSTOMERS or not (x > 0).any():
        return None
    # Customers sharing (x, t_x, T) count once, weighted: days make many of them alike.
    unique, counts = np.unique(np.stack([x, t_x, age], axis=1), axis=0, return_counts=True)
    beta_geo = clv.fit_bg_nbd(unique[:, 0], unique[:, 1], unique[:, 2], weights=counts)
    spend: dict[str, dict[str, float]] = {}
    for currency in sorted({h.currency for h in histories if h.currency is not None}):
        chosen = [h for h in histories if h.currency == currency and h.frequency > 0]
        chosen = [h for h in chosen if h.repeat_value > 0]
        if len(chosen) >= MINIMUM_REPEAT_CUSTOMERS:
            found = clv.fit_gamma_gamma(
                [h.frequency for h in chosen], [float(h.repeat_value) for h in chosen]
            )
            spend[currency] = {"p": found.p, "q": found.q, "gamma": found.gamma}
    bg_nbd = {"r": beta_geo.r, "alpha": beta_geo.alpha, "a": beta_geo.a, "b": beta_geo.b}
    return {"bg_nbd": bg_nbd, "gamma_gamma": spend, "period_days": PERIOD_DAYS}


def predict(model: PredictionModel, histories: list[PurchaseHistory]) -> list[dict[str, Any]]:
    """Return the prediction rows of some histories under a fitted model."""
    beta_geo = clv.BetaGeoParameters(**model.parameters["bg_nbd"])
    x, t_x, age = _arrays(histories)
    alive = clv.probability_alive(beta_geo, x, t_x, age)
    periods = model.horizon_months * PERIODS_PER_MONTH
    orders = clv.expected_purchases(beta_geo, periods, x, t_x, age)
    values = _values(model, beta_geo, histories, (x, t_x, age))
    now = utcnow()
    return [
        {
            "customer_id": history.customer_id,
            "model_id": model.id,
            "repeat_purchases": history.frequency,
            "churn_risk": float(1.0 - alive[i]),
            "p_alive": float(alive[i]),
            "expected_orders": float(orders[i]),
            "expected_value": values[i],
            "currency": history.currency,
            "computed_at": now,
        }
        for i, history in enumerate(histories)
        if np.isfinite(alive[i]) and np.isfinite(orders[i])
    ]


def _values(
    model: PredictionModel,
    beta_geo: clv.BetaGeoParameters,
    histories: list[PurchaseHistory],
    summary: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> list[Decimal | None]:
    """Expected value per history, None where its currency has no spend model."""
    found: list[Decimal | None] = [None] * len(histories)
    for currency, parameters in model.parameters["gamma_gamma"].items():
        index = [i for i, h in enumerate(histories) if h.currency == currency]
        if not index:
            continue
        x, t_x, age = (array[index] for array in summary)
        mean = [float(histories[i].repeat_value) for i in index]
        spend = clv.expected_spend(clv.GammaGammaParameters(**parameters), x, mean)
        value = clv.expected_value(
            beta_geo,
            spend,
            x,
            t_x,
            age,
            months=model.horizon_months,
            periods_per_month=PERIODS_PER_MONTH,
            monthly_discount=model.monthly_discount,
        )
        for position, i in enumerate(index):
            if np.isfinite(value[position]):
                found[i] = as_money(float(value[position]))
    return found


class CustomerPredictions:
    async def fit(
        self,
        session: AsyncSession,
        workspace_id: str,
        *,
        as_of: datetime | None = None,
        horizon_months: int = HORIZON_MONTHS,
        monthly_discount: float = MONTHLY_DISCOUNT,
        on_page: Callable[[int], None] | None = None,
    ) -> PredictionModel | None:
        """Fit the models on every purchase history before `as_of` and record the fit; None
        when there is too little history. `on_page` hears how many histories each page read."""
        as_of = as_utc(as_of or utcnow())
        histories: list[PurchaseHistory] = []
        after: str | None = None
        while True:
            page = await purchase_histories.page(session, workspace_id, as_of, after, PAGE)
            histories.extend(page.histories)
            if on_page is not None:
                on_page(len(page.histories))
            if page.next_after is None:
                break
            after = page.next_after
        parameters = fit_parameters(histories)
        if parameters is None:
            return None
        model = PredictionModel(
            as_of=as_of,
            customers=len(histories),
            parameters=parameters,
            horizon_months=horizon_months,
            monthly_discount=monthly_discount,
        )
        return await PredictionModelRepository(session, workspace_id).add(model)

    async def store_page(
        self, session: AsyncSession, workspace_id: str, model_id: str, after: str | None
    ) -> StoredPage:
        """Predict and store one page of customers under a model; after the last page, drop
        the predictions of older models (customers who no longer have counted orders)."""
        models = PredictionModelRepository(session, workspace_id)
        model = await models.get(model_id)
        if model is None:
            return StoredPage(0, None)  # a newer run replaced it meanwhile
        page = await purchase_histories.page(session, workspace_id, model.as_of, after, PAGE)
        rows = predict(model, page.histories)
        await PredictionRepository(session, workspace_id).upsert(rows)
        if page.next_after is None:
            await models.delete_older(model)
        return StoredPage(len(rows), page.next_after)

    async def latest_model(
        self, session: AsyncSession, workspace_id: str
    ) -> PredictionModel | None:
        """Return the workspace's latest fitted model."""
        return await PredictionModelRepository(session, workspace_id).latest()

    async def for_customers(
        self, session: AsyncSession, workspace_id: str, customer_ids: list[str]
    ) -> dict[str, PredictionView]:
        """Return the stored predictions of some profiles, by profile id."""
        rows = await PredictionRepository(session, workspace_id).of(customer_ids)
        models = PredictionModelRepository(session, workspace_id)
        horizons: dict[str, int] = {}
        for model_id in {row.model_id for row in rows}:
            model = await models.get(model_id)
            horizons[model_id] = model.horizon_months if model is not None else HORIZON_MONTHS
        return {
            row.customer_id: PredictionView(
                churn_risk=row.churn_risk,
                churn_band=churn_band(row.churn_risk),
                p_alive=row.p_alive,
                repeat_buyer=row.repeat_purchases > 0,
                expected_orders=row.expected_orders,
                expected_value=row.expected_value,
                currency=row.currency,
                horizon_months=horizons[row.model_id],
                computed_at=row.computed_at,
            )
            for row in rows
        }


predictions = CustomerPredictions()
