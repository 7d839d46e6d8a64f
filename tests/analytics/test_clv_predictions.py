"""Purchase histories from orders and the stored predictions (fit, pages, reruns, jobs)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

import rapport.analytics.predictions as prediction_module
from rapport.analytics import clv
from rapport.analytics.models import CustomerPrediction, PredictionModel
from rapport.analytics.predictions import PERIODS_PER_MONTH, predictions
from rapport.analytics.tasks import STORE_PREDICTIONS, predict_customers, store_predictions
from rapport.core.db import Database
from rapport.core.jobs import Job
from rapport.customers.enums import MergeReason
from rapport.customers.merges import merges
from rapport.domains import load_tasks
from rapport.events.enums import OrderStatus
from rapport.events.models import Order
from rapport.events.purchase_history import PurchaseHistory, purchase_histories
from tests.fixtures.identity import make_workspace
from tests.fixtures.predictions import day, make_buyer, make_history, order, place


@pytest.fixture(autouse=True)
def _tasks() -> None:
    """Register every domain's jobs and facts, as each process does (merges need them)."""
    load_tasks()


async def test_history_counts_purchase_days_net_of_refunds_without_cancelled_orders(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    ann = await make_buyer(database, workspace.id, "ann")
    await place(
        database,
        workspace.id,
        [
            order(ann, 0, "10.00"),
            order(ann, 0, "5.00"),  # the same day: one purchase worth 15
            order(ann, 14, "30.00", status=OrderStatus.refunded, refunded="10.00"),  # worth 20
            order(ann, 21, "99.00", status=OrderStatus.cancelled),
            order(ann, 28, "50.00", status=OrderStatus.refunded, refunded="50.00"),
            order(ann, 35, "40.00"),
            order(ann, 80, "70.00"),  # after the moment looked from
        ],
    )
    async with database.session() as session:
        page = await purchase_histories.page(session, workspace.id, day(70))
    assert page.histories == [
        PurchaseHistory(ann, 2, 35, 70, Decimal("30.00"), "EUR"),
    ]
    assert page.next_after is None


async def test_history_of_a_merged_profile_is_its_groups_once_across_pages(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    winner = await make_buyer(database, workspace.id, "winner")
    loser = await make_buyer(database, workspace.id, "loser")
    mixed = await make_buyer(database, workspace.id, "mixed")
    await place(
        database,
        workspace.id,
        [
            order(loser, 7, "12.00"),
            order(winner, 10, "8.00"),
            order(mixed, 1, "5.00", currency="USD"),
            order(mixed, 2, "5.00"),
        ],
    )
    async with database.session() as session:
        await merges.merge(
            session,
            workspace.id,
            winner_id=winner,
            loser_id=loser,
            reason=MergeReason.staff,
            actor="test",
        )
    found: list[PurchaseHistory] = []
    after = None
    async with database.session() as session:
        while True:
            page = await purchase_histories.page(session, workspace.id, day(70), after, limit=1)
            found.extend(page.histories)
            if page.next_after is None:
                break
            after = page.next_after
    assert sorted(found, key=lambda history: history.customer_id) == sorted(
        [
            PurchaseHistory(winner, 1, 3, 63, Decimal("8.00"), "EUR"),
            PurchaseHistory(mixed, 1, 1, 69, Decimal("5.00"), None),
        ],
        key=lambda history: history.customer_id,
    )


async def _run(database: Database, workspace_id: str) -> PredictionModel:
    async with database.session() as session:
        model = await predictions.fit(session, workspace_id, as_of=day(200))
    assert model is not None
    after = None
    while True:
        async with database.session() as session:
            page = await predictions.store_page(session, workspace_id, model.id, after)
        if page.next_after is None:
            return model
        after = page.next_after


async def _stored(database: Database, workspace_id: str) -> dict[str, CustomerPrediction]:
    async with database.session() as session:
        rows = await session.execute(
            select(CustomerPrediction).where(CustomerPrediction.workspace_id == workspace_id)
        )
        return {row.customer_id: row for row in rows.scalars()}


async def test_stored_predictions_are_the_models_figures(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prediction_module, "PAGE", 5)  # five pages of buyers
    workspace = await make_workspace(database)
    names = await make_history(database, workspace.id)
    model = await _run(database, workspace.id)
    stored = await _stored(database, workspace.id)
    beta_geo = clv.BetaGeoParameters(**model.parameters["bg_nbd"])
    spend = clv.GammaGammaParameters(**model.parameters["gamma_gamma"]["EUR"])
    # lapsed: 5 repeats, last on day 35, first on day 0, looked at on day 200 (in weeks).
    summary = ([5], [35 / 7], [200 / 7])
    alive = clv.probability_alive(beta_geo, *summary)[0]
    orders = clv.expected_purchases(beta_geo, 12 * PERIODS_PER_MONTH, *summary)[0]
    value = clv.expected_value(
        beta_geo,
        clv.expected_spend(spend, [5], [20.0]),
        *summary,
        months=12,
        periods_per_month=PERIODS_PER_MONTH,
    )[0]
    lapsed = stored[names["lapsed"]]
    assert (len(stored), model.customers, lapsed.model_id) == (24, 24, model.id)
    assert (lapsed.repeat_purchases, lapsed.currency) == (5, "EUR")
    assert (lapsed.p_alive, lapsed.churn_risk) == pytest.approx((alive, 1 - alive), rel=1e-12)
    assert lapsed.expected_orders == pytest.approx(orders, rel=1e-12)
    assert lapsed.expected_value == Decimal(str(round(value, 2))).quantize(Decimal("0.01"))
    assert lapsed.churn_risk > 0.7 > 0.3 > stored[names["loyal"]].churn_risk


async def test_a_rerun_replaces_the_model_and_drops_customers_without_counted_orders(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    names = await make_history(database, workspace.id)
    await _run(database, workspace.id)
    gone = names["buyer0"]  # one order: cancelling it leaves nothing to predict from
    await place(database, workspace.id, [order(names["buyer1"], 150, "11.00")])
    async with database.session() as session:
        await session.execute(
            update(Order).where(Order.customer_id == gone).values(status=OrderStatus.cancelled)
        )
    second = await _run(database, workspace.id)
    stored = await _stored(database, workspace.id)
    async with database.session() as session:
        models = (
            await session.execute(
                select(func.count())
                .select_from(PredictionModel)
                .where(PredictionModel.workspace_id == workspace.id)
            )
        ).scalar_one()
    assert (len(stored), gone in stored, models) == (23, False, 1)
    assert {prediction.model_id for prediction in stored.values()} == {second.id}
    assert stored[names["buyer1"]].repeat_purchases == 2


async def test_too_little_history_fits_nothing(database: Database) -> None:
    workspace = await make_workspace(database)
    buyer = await make_buyer(database, workspace.id, "only")
    await place(database, workspace.id, [order(buyer, 0, "5.00"), order(buyer, 9, "5.00")])
    async with database.session() as session:
        assert await predictions.fit(session, workspace.id, as_of=day(50)) is None


async def test_the_jobs_fit_then_store_page_after_page(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prediction_module, "PAGE", 10)
    workspace = await make_workspace(database)
    await make_history(database, workspace.id)
    async with database.session() as session:
        await predict_customers(session, workspace.id)
    pages = 0
    while True:
        async with database.session() as session:
            queued = list(
                (await session.execute(select(Job).where(Job.name == STORE_PREDICTIONS))).scalars()
            )
            if not queued:
                break
            [job] = queued
            await session.delete(job)
            await store_predictions(session, workspace_id=workspace.id, **job.payload)
            pages += 1
    assert (pages, len(await _stored(database, workspace.id))) == (3, 24)
