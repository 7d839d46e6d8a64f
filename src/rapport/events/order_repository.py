"""Every SQL statement about orders, their lines and products (the events domain's commerce
tables)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update

from rapport.core.clock import utcnow
from rapport.core.ids import new_ids
from rapport.core.repository import TenantRepository
from rapport.events.models import Order, OrderItem, Product
from rapport.events.repository import Keyset, windowed
from rapport.events.rows import encode_time_for

# The order statuses counted in a profile's orders and revenue.
PAID = ("completed", "updated", "refunded")

ITEM_COLUMNS = (
    "id", "workspace_id", "created_at", "order_id", "product_key", "sku", "name", "quantity",
    "price",
)  # fmt: skip
ITEM_TYPES = {"created_at": "timestamptz", "quantity": "integer", "price": "numeric"}
INSERT_ITEMS_SQLITE = (
    f"INSERT INTO order_items ({', '.join(ITEM_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' * len(ITEM_COLUMNS))})"
)
INSERT_ITEMS_POSTGRESQL = (
    f"INSERT INTO order_items ({', '.join(ITEM_COLUMNS)}) SELECT * FROM unnest("  # noqa: S608
    + ", ".join(
        f"${n}::{ITEM_TYPES.get(column, 'varchar')}[]" for n, column in enumerate(ITEM_COLUMNS, 1)
    )
    + ")"
)


# Product views and adds, counted a chunk at a time: rows of PRODUCT_COUNT_COLUMNS, one
# driver-level statement (an executemany on SQLite, one INSERT ... SELECT FROM unnest() on
# PostgreSQL). Details said replace stored ones; details left out keep them.
PRODUCT_COUNT_COLUMNS = (
    "id", "workspace_id", "created_at", "product_key", "sku", "name", "category", "views", "adds",
)  # fmt: skip
_UPSERT_COUNTS = (
    " ON CONFLICT (workspace_id, product_key) DO UPDATE SET "
    "views = products.views + excluded.views, adds = products.adds + excluded.adds, "
    "sku = coalesce(excluded.sku, products.sku), name = coalesce(excluded.name, products.name), "
    "category = coalesce(excluded.category, products.category)"
)
ADD_COUNTS_SQLITE = (
    f"INSERT INTO products ({', '.join(PRODUCT_COUNT_COLUMNS)}, price) "  # noqa: S608
    f"VALUES ({', '.join('?' * len(PRODUCT_COUNT_COLUMNS))}, NULL)" + _UPSERT_COUNTS
)
_COUNT_TYPES = {"created_at": "timestamptz", "views": "integer", "adds": "integer"}
ADD_COUNTS_POSTGRESQL = (
    f"INSERT INTO products ({', '.join(PRODUCT_COUNT_COLUMNS)}, price) "  # noqa: S608
    "SELECT given.*, NULL::numeric FROM unnest("
    + ", ".join(
        f"${n}::{_COUNT_TYPES.get(column, 'varchar')}[]"
        for n, column in enumerate(PRODUCT_COUNT_COLUMNS, 1)
    )
    + ") AS given"
    + _UPSERT_COUNTS
)

# The tables behind the models, for the Core statements of bulk writes.
ORDERS = cast(Table, Order.__table__)
PRODUCTS = cast(Table, Product.__table__)


class ProductRow(NamedTuple):
    """A product's details, read and written without loading the product."""

    id: str
    product_key: str
    sku: str | None
    name: str | None
    category: str | None
    price: Decimal | None


class ProductCount(NamedTuple):
    """Views and adds to add to a product, with the details a chunk said about it."""

    product_key: str
    sku: str | None
    name: str | None
    category: str | None
    views: int
    adds: int


class ProductRepository(TenantRepository[Product]):
    model = Product

    async def add_counts(self, counts: list[ProductCount]) -> None:
        """Add views and adds to products, creating those not stored yet and taking the details
        said (one left out keeps its stored value), in one driver-level statement; rows in key
        order, so concurrent chunks lock products in the same order."""
        if not counts:
            return
        dialect = self.dialect
        created_at = encode_time_for(dialect)(utcnow())
        ordered = sorted(counts, key=lambda count: count.product_key)
        rows = [
            (product_id, self.workspace_id, created_at, *count)
            for product_id, count in zip(new_ids(len(ordered)), ordered, strict=True)
        ]
        connection = await self.session.connection()
        if dialect == "postgresql":
            columns = tuple(list(column) for column in zip(*rows, strict=True))
            await connection.exec_driver_sql(ADD_COUNTS_POSTGRESQL, columns)
        else:
            await connection.exec_driver_sql(ADD_COUNTS_SQLITE, rows)

    async def details(self, product_keys: list[str]) -> dict[str, ProductRow]:
        """Return the details of the products with these shop ids (locked), by id."""
        rows = await self.session.execute(
            select(*(getattr(Product, column) for column in ProductRow._fields))
            .where(Product.workspace_id == self.workspace_id)
            .where(Product.product_key.in_(product_keys))
            .with_for_update()
        )
        return {row.product_key: ProductRow(*row) for row in rows}

    async def write_details(self, new: list[ProductRow], changed: list[ProductRow]) -> None:
        """Insert new products and store the details of changed ones, a statement each."""
        table = PRODUCTS
        if new:
            created = {"workspace_id": self.workspace_id, "created_at": utcnow(), "views": 0}
            await self.session.execute(
                insert(table), [created | {"adds": 0} | row._asdict() for row in new]
            )
        if changed:
            # Each row's keys name the columns set (SQLAlchemy's executemany UPDATE).
            await self.session.execute(
                update(table).where(table.c.id == bindparam("product_id")),
                [
                    {
                        "product_id": row.id,
                        "sku": row.sku,
                        "name": row.name,
                        "category": row.category,
                        "price": row.price,
                    }
                    for row in changed
                ],
            )


class OrderRepository(TenantRepository[Order]):
    model = Order

    async def by_key(self, order_key: str) -> Order | None:
        """Return an order by the shop's order id."""
        return await self.one_or_none(self.base_query().where(Order.order_key == order_key))

    async def placed_since(self, moment: datetime, first_id: str) -> list[tuple[str, int, Decimal]]:
        """Count and total (net of refunds) the orders placed since `moment`, by currency;
        cancelled ones left out. Such orders were stored from id `first_id` on."""
        rows = await self.session.execute(
            select(Order.currency, func.count(), func.sum(Order.total - Order.refunded))
            .where(Order.id >= first_id, self.in_workspace(), Order.placed_at >= moment)
            .where(Order.status != "cancelled")
            .group_by(Order.currency)
            .order_by(Order.currency)
        )
        return [(str(row[0]), int(row[1]), Decimal(row[2] or 0)) for row in rows]

    async def by_keys(self, order_keys: list[str]) -> dict[str, Order]:
        """Return the orders with these shop ids, locked for the update that follows, by id."""
        found = await self.all(
            self.base_query().where(Order.order_key.in_(order_keys)).with_for_update()
        )
        return {order.order_key: order for order in found}

    async def insert_new(self, orders: list[dict[str, Any]]) -> None:
        """Insert new orders (every column given) in one statement."""
        if orders:
            await self.session.execute(insert(ORDERS), orders)

    async def for_customers(self, customer_ids: list[str], limit: int = 100) -> Sequence[Order]:
        """Return a profile's orders, newest first."""
        return await self.all(
            self.base_query()
            .where(Order.customer_id.in_(customer_ids))
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        )

    async def window(
        self, customer_ids: list[str], key: Keyset | None, limit: int
    ) -> Sequence[Order]:
        """Return a profile's orders on one side of a keyset cursor (as `EventRepository`)."""
        query = self.base_query().where(Order.customer_id.in_(customer_ids))
        return await self.all(windowed(query, Order.placed_at, Order.id, key).limit(limit))

    async def currencies(self, customer_ids: list[str]) -> list[tuple[str, str]]:
        """Return the (profile, currency) pairs of these profiles' paid orders."""
        rows = await self.session.execute(
            select(Order.customer_id, Order.currency)
            .where(Order.workspace_id == self.workspace_id, Order.customer_id.in_(customer_ids))
            .where(Order.status.in_(PAID))
            .distinct()
        )
        return [(str(row[0]), str(row[1])) for row in rows]

    async def summary(self, customer_ids: list[str]) -> tuple[int, Any, Any]:
        """Count paid orders and sum their net revenue; return the last order time too."""
        counted = Order.status.in_(PAID)
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(Order.total - Order.refunded), 0),
                    func.max(Order.placed_at),
                ).where(
                    Order.workspace_id == self.workspace_id,
                    Order.customer_id.in_(customer_ids),
                    counted,
                )
            )
        ).one()
        return int(row[0]), row[1], row[2]

    async def summaries(self, customer_ids: list[str]) -> dict[str, tuple[int, Any, Any]]:
        """Return `summary` for each of these profiles that has paid orders, in one query."""
        rows = await self.session.execute(
            select(
                Order.customer_id,
                func.count(),
                func.coalesce(func.sum(Order.total - Order.refunded), 0),
                func.max(Order.placed_at),
            )
            .where(
                Order.workspace_id == self.workspace_id,
                Order.customer_id.in_(customer_ids),
                Order.status.in_(PAID),
            )
            .group_by(Order.customer_id)
        )
        return {str(row[0]): (int(row[1]), row[2], row[3]) for row in rows}

    async def items_of(self, order_ids: list[str]) -> Sequence[OrderItem]:
        """Return the lines of some orders."""
        rows = await self.session.execute(
            select(OrderItem).where(
                OrderItem.workspace_id == self.workspace_id, OrderItem.order_id.in_(order_ids)
            )
        )
        return rows.scalars().all()

    async def lines_of(self, order_ids: list[str]) -> dict[str, list[tuple[Any, ...]]]:
        """Return the lines of some orders as rows of ITEM_COLUMNS from order_id on."""
        found: dict[str, list[tuple[Any, ...]]] = {order_id: [] for order_id in order_ids}
        if order_ids:
            columns = [getattr(OrderItem, column) for column in ITEM_COLUMNS[3:]]
            rows = await self.session.execute(
                select(*columns).where(
                    OrderItem.workspace_id == self.workspace_id, OrderItem.order_id.in_(order_ids)
                )
            )
            for row in rows:
                found[row[0]].append(tuple(row))
        return found

    async def replace_items(self, stored_ids: list[str], lines: list[tuple[Any, ...]]) -> None:
        """Replace the lines of some orders: delete those of the stored orders given, then
        insert the new lines (ITEM_COLUMNS from order_id on) in one driver-level statement."""
        if stored_ids:
            await self.session.execute(
                delete(OrderItem)
                .where(OrderItem.workspace_id == self.workspace_id)
                .where(OrderItem.order_id.in_(stored_ids))
                .execution_options(synchronize_session=False)
            )
        await self.session.flush()  # the orders the new lines belong to
        if not lines:
            return
        dialect = self.dialect
        created_at = encode_time_for(dialect)(utcnow())
        stamp = (self.workspace_id, created_at)
        ids = new_ids(len(lines))
        connection = await self.session.connection()
        if dialect == "postgresql":
            rows = [(line_id, *stamp, *line) for line_id, line in zip(ids, lines, strict=True)]
            columns = tuple(list(column) for column in zip(*rows, strict=True))
            await connection.exec_driver_sql(INSERT_ITEMS_POSTGRESQL, columns)
        else:
            # SQLAlchemy stores Numeric as REAL on SQLite: the same float it would bind.
            rows = [
                (line_id, *stamp, *line[:-1], float(line[-1]))
                for line_id, line in zip(ids, lines, strict=True)
            ]
            await connection.exec_driver_sql(INSERT_ITEMS_SQLITE, rows)
