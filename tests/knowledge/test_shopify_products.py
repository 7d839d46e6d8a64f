"""Shopify's products/update and products/delete webhooks keep the products' fact sheets,
verified by X-Shopify-Hmac-Sha256 like the order webhook."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from rapport.core.db import Database
from rapport.events.shopify import signature
from rapport.identity.keys import sources
from rapport.identity.models import Source
from rapport.knowledge.errors import ProductSheetNotFound
from rapport.knowledge.products import CatalogUpdate, product_sheets
from rapport.knowledge.schemas import MAX_FACTS, Fact, ProductSheetWrite
from rapport.knowledge.shopify import text_of_html
from tests.fixtures.identity import make_source, make_workspace
from tests.fixtures.knowledge import make_product_sheet

# The parts of Shopify's product payload that Rapport reads (their documented example's
# shape), and some it does not.
PRODUCT: dict[str, Any] = {
    "id": 632910392,
    "title": "Linen shirt",
    "body_html": "<p>A <strong>relaxed</strong> shirt in washed linen</p>"
    "<ul><li>Free returns within 30 days</li></ul><script>alert(1)</script>",
    "vendor": "Atelier Nord",
    "product_type": "Shirts",
    "handle": "linen-shirt",
    "tags": "summer, linen",
    "options": [
        {"name": "Size", "values": ["S", "M", "L"]},
        {"name": "Color", "values": ["White", "Sand"]},
    ],
    "variants": [
        {"sku": "LS-S-W", "price": "49.00"},
        {"sku": "LS-M-W", "price": "49.00"},
        {"sku": "LS-L-S", "price": "55.00"},
    ],
}


async def _shop(database: Database) -> tuple[Source, str]:
    source = await make_source(database, await make_workspace(database), "shopify")
    async with database.session() as session:
        secret = await sources.webhook_secret(session, source.workspace_id, source.id)
    assert secret is not None
    return source, secret


async def _deliver(
    client: httpx.AsyncClient, source: Source, secret: str, topic: str, payload: object
) -> httpx.Response:
    body = orjson.dumps(payload)
    return await client.post(
        f"/v1/webhooks/shopify/{source.write_key}/{topic}",
        content=body,
        headers={"X-Shopify-Hmac-Sha256": signature(secret, body)},
    )


async def test_a_product_update_writes_its_fact_sheet(
    client: httpx.AsyncClient, database: Database
) -> None:
    source, secret = await _shop(database)
    response = await _deliver(client, source, secret, "products-update", PRODUCT)
    assert response.status_code == 200, response.text
    async with database.session() as session:
        sheet = await product_sheets.get(session, source.workspace_id, "632910392", "en")
    assert (sheet.name, sheet.sku, sheet.author) == ("Linen shirt", None, "shopify")
    assert sheet.facts == [
        ["Type", "Shirts"],
        ["Brand", "Atelier Nord"],
        ["Size", "S, M, L"],
        ["Color", "White, Sand"],
        ["Price", "49.00 to 55.00"],
    ]
    assert sheet.description == "A relaxed shirt in washed linen. Free returns within 30 days."
    async with database.session() as session:
        hits = await product_sheets.answer(
            session, source.workspace_id, "What colors does the linen shirt come in?"
        )
    assert [(hit.title, hit.snippet) for hit in hits] == [("Linen shirt — Color", "White, Sand")]


async def test_an_update_replaces_the_sheet_and_a_deletion_removes_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    source, secret = await _shop(database)
    await _deliver(client, source, secret, "products-update", PRODUCT)
    one_variant = {
        **PRODUCT,
        "options": [{"name": "Title", "values": ["Default Title"]}],
        "variants": [{"sku": "LS-ONE", "price": 39}],
    }
    assert (await _deliver(client, source, secret, "products-update", one_variant)).is_success
    async with database.session() as session:
        sheet = await product_sheets.get(session, source.workspace_id, "632910392", "en")
    assert sheet.sku == "LS-ONE"
    assert sheet.facts == [["Type", "Shirts"], ["Brand", "Atelier Nord"], ["Price", "39.00"]]
    deleted = await _deliver(client, source, secret, "products-delete", {"id": 632910392})
    assert deleted.json() == {"success": True, "deleted": 1}
    async with database.session() as session:
        with pytest.raises(ProductSheetNotFound):
            await product_sheets.get(session, source.workspace_id, "632910392", "en")


async def test_an_update_keeps_the_facts_and_address_written_by_hand(
    client: httpx.AsyncClient, database: Database
) -> None:
    source, secret = await _shop(database)
    await _deliver(client, source, secret, "products-update", PRODUCT)
    async with database.session() as session:  # the owner adds to it in the console
        sheet = await product_sheets.get(session, source.workspace_id, "632910392", "en")
        assert sheet.synced_facts == ["Type", "Brand", "Size", "Color", "Price"]
        edited = ProductSheetWrite(
            name=sheet.name,
            description=sheet.description,
            facts=[
                *(Fact(name=name, value=value) for name, value in sheet.facts),
                Fact(name="Care", value="machine wash at 30 °C"),
            ],
            url="https://shop.example/linen-shirt",
        )
        await product_sheets.put(
            session, source.workspace_id, "632910392", "en", edited, author="staff:1"
        )
    no_colors = {
        **PRODUCT,
        "body_html": "",
        "options": [{"name": "Size", "values": ["S", "M"]}],
        "variants": [{"sku": "LS-S", "price": "45.00"}, {"sku": "LS-M", "price": "45.00"}],
    }
    assert (await _deliver(client, source, secret, "products-update", no_colors)).is_success
    async with database.session() as session:
        sheet = await product_sheets.get(session, source.workspace_id, "632910392", "en")
        hits = await product_sheets.answer(
            session, source.workspace_id, "How do I wash the linen shirt?"
        )
    # The catalog's facts as it sends them now (Color gone), then the owner's.
    assert sheet.facts == [
        ["Type", "Shirts"],
        ["Brand", "Atelier Nord"],
        ["Size", "S, M"],
        ["Price", "45.00"],
        ["Care", "machine wash at 30 °C"],
    ]
    assert (sheet.synced_facts, sheet.author) == (["Type", "Brand", "Size", "Price"], "shopify")
    assert sheet.url == "https://shop.example/linen-shirt"
    assert sheet.description == "A relaxed shirt in washed linen. Free returns within 30 days."
    assert sheet.embedding is not None and sheet.embedding_model is not None
    assert [(hit.title, hit.snippet) for hit in hits] == [
        ("Linen shirt — Care", "machine wash at 30 °C")
    ]


async def test_a_sheet_written_by_hand_first_keeps_the_facts_the_catalog_does_not_send(
    client: httpx.AsyncClient, database: Database
) -> None:
    source, secret = await _shop(database)
    await make_product_sheet(
        database,
        source.workspace_id,
        "632910392",
        facts=(("Price", "40.00"), ("Fit", "relaxed")),
    )
    assert (await _deliver(client, source, secret, "products-update", PRODUCT)).is_success
    async with database.session() as session:
        sheet = await product_sheets.get(session, source.workspace_id, "632910392", "en")
    assert [name for name, _ in sheet.facts] == [
        "Type", "Brand", "Size", "Color", "Price", "Fit",
    ]  # fmt: skip
    assert dict(sheet.facts)["Price"] == "49.00 to 55.00"


async def test_a_full_sheet_gives_the_stores_facts_way_to_those_written_by_hand(
    client: httpx.AsyncClient, database: Database
) -> None:
    source, secret = await _shop(database)
    await _deliver(client, source, secret, "products-update", PRODUCT)
    by_hand = [(f"Hand {number}", "yes") for number in range(MAX_FACTS - 5)]
    async with database.session() as session:  # five from the store, 45 by hand
        sheet = await product_sheets.get(session, source.workspace_id, "632910392", "en")
        full = ProductSheetWrite(
            name=sheet.name,
            facts=[Fact(name=name, value=value) for name, value in [*sheet.facts, *by_hand]],
        )
        await product_sheets.put(
            session, source.workspace_id, "632910392", "en", full, author="staff:1"
        )
    more_options = {
        **PRODUCT,
        "options": [*PRODUCT["options"], {"name": "Material", "values": ["Linen"]}],
    }
    assert (await _deliver(client, source, secret, "products-update", more_options)).is_success
    async with database.session() as session:
        sheet = await product_sheets.get(session, source.workspace_id, "632910392", "en")
    assert len(sheet.facts) == MAX_FACTS
    assert [name for name, _ in sheet.facts][-len(by_hand) :] == [name for name, _ in by_hand]
    assert sheet.synced_facts == ["Type", "Brand", "Size", "Color", "Material"]  # Price gave way


async def test_a_fact_stored_under_earlier_rules_is_kept_as_it_is(
    client: httpx.AsyncClient, database: Database
) -> None:
    source, secret = await _shop(database)
    await make_product_sheet(database, source.workspace_id, "632910392")
    async with database.session() as session:  # names could hold a colon until 2026-12-07
        sheet = await product_sheets.get(session, source.workspace_id, "632910392", "en")
        sheet.facts = [["Care: wash", "cold"]]
    response = await _deliver(client, source, secret, "products-update", PRODUCT)
    assert response.status_code == 200, response.text
    async with database.session() as session:
        sheet = await product_sheets.get(session, source.workspace_id, "632910392", "en")
    assert sheet.facts[-1] == ["Care: wash", "cold"]


async def test_a_sheet_changed_while_its_update_was_embedded_is_written_without_vectors(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(database, workspace.id, "p1", facts=(("Fit", "relaxed"),))
    catalog = ProductSheetWrite(name="Linen shirt", facts=[Fact(name="Price", value="49.00")])
    update = CatalogUpdate(catalog)
    async with database.session() as session:
        planned = await product_sheets.planned_sync(session, workspace.id, "p1", "en", update)
    assert planned is not None
    embedding = await product_sheets.embed_sheet(planned)
    await make_product_sheet(  # the owner saves meanwhile
        database, workspace.id, "p1", facts=(("Fit", "relaxed"), ("Care", "hand wash"))
    )
    async with database.session() as session:
        written = await product_sheets.sync(
            session, workspace.id, "p1", "en", update, author="shopify", embedding=embedding
        )
        assert written is not None
        sheet = written[0]
        assert sheet.facts == [["Price", "49.00"], ["Fit", "relaxed"], ["Care", "hand wash"]]
        assert (sheet.embedding, sheet.embedding_model) == (None, None)
    async with database.session() as session:  # answered by words until embedded again
        hits = await product_sheets.answer(session, workspace.id, "Linen shirt care?")
    assert [hit.snippet for hit in hits] == ["hand wash"]


async def test_a_late_or_repeated_older_update_changes_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    source, secret = await _shop(database)
    newer = {**PRODUCT, "title": "Linen shirt", "updated_at": "2026-12-07T10:00:00-05:00"}
    older = {**PRODUCT, "title": "Old linen shirt", "updated_at": "2026-12-07T09:59:00-05:00"}
    first = await _deliver(client, source, secret, "products-update", newer)
    assert first.json()["applied"] is True
    late = await _deliver(client, source, secret, "products-update", older)
    assert late.json() == {"success": True, "applied": False}
    again = await _deliver(client, source, secret, "products-update", newer)  # a retry
    assert again.json()["applied"] is True
    async with database.session() as session:
        sheet = await product_sheets.get(session, source.workspace_id, "632910392", "en")
    assert sheet.name == "Linen shirt"
    assert sheet.source_updated_at is not None
    assert sheet.source_updated_at.isoformat() == "2026-12-07T15:00:00+00:00"
    unreadable = {**PRODUCT, "updated_at": "soon"}
    bad_time = await _deliver(client, source, secret, "products-update", unreadable)
    assert bad_time.status_code == 400 and "updated_at" in bad_time.json()["detail"]


async def test_a_wrong_signature_or_write_key_changes_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    source, secret = await _shop(database)
    forged = await _deliver(client, source, "not-the-secret", "products-update", PRODUCT)
    assert (forged.status_code, forged.json()["error"]) == (401, "InvalidSignature")
    other, other_secret = await _shop(database)
    # Another shop's secret does not sign for this source.
    crossed = await _deliver(client, source, other_secret, "products-update", PRODUCT)
    assert crossed.status_code == 401
    unknown = await client.post(
        "/v1/webhooks/shopify/wk_unknown/products-delete",
        content=b'{"id": 1}',
        headers={"X-Shopify-Hmac-Sha256": signature(secret, b'{"id": 1}')},
    )
    assert unknown.status_code == 401
    async with database.session() as session:
        assert (await product_sheets.page(session, source.workspace_id)).items == []
        assert (await product_sheets.page(session, other.workspace_id)).items == []


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({**PRODUCT, "title": ["Linen"]}, "`title` must be"),
        ({**PRODUCT, "options": "Size"}, "`options` must be"),
        ({**PRODUCT, "variants": [{"price": {"amount": 1}}]}, "`variants[0].price` must be"),
        ({key: value for key, value in PRODUCT.items() if key != "id"}, "no `id`"),
        ([PRODUCT], "must be a JSON object"),
    ],
)
async def test_a_malformed_product_is_400_with_the_reason(
    client: httpx.AsyncClient, database: Database, payload: object, message: str
) -> None:
    source, secret = await _shop(database)
    response = await _deliver(client, source, secret, "products-update", payload)
    assert response.status_code == 400
    assert message in response.json()["detail"]


async def test_odd_but_valid_products_still_make_a_sheet(
    client: httpx.AsyncClient, database: Database
) -> None:
    source, secret = await _shop(database)
    odd = {
        "id": "gid-7",
        "title": "Tote\nbag\x00 " + "x" * 300,
        "body_html": None,
        "options": [{"name": "Size", "values": [1, {"x": 1}, "Large"]}] * 3,
        "variants": [{"sku": "  ", "price": "abc"}],
    }
    response = await _deliver(client, source, secret, "products-update", odd)
    assert response.status_code == 200, response.text
    async with database.session() as session:
        sheet = await product_sheets.get(session, source.workspace_id, "gid-7", "en")
    assert sheet.name.startswith("Tote bag xxx") and len(sheet.name) == 200
    assert sheet.facts == [["Size", "1, Large"]]  # an unreadable price is no price
    assert (sheet.sku, sheet.description) == (None, "")


def test_html_descriptions_keep_their_visible_text_only() -> None:
    html = (
        "<h2>Details</h2><p>Soft&nbsp;&amp; light<br>cotton</p>"
        "<style>p{}</style><script>steal()</script><p></p>"
    )
    assert text_of_html(html) == "Details. Soft & light. cotton."
