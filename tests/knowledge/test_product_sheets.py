"""Product fact sheets: writing them whole, reading and listing them, bad input, and the
answers they give (which product a question names, which facts answer it)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from rapport.assistant.demo import DEMO_ORDERS
from rapport.core.db import Database
from rapport.identity.models import Workspace
from rapport.knowledge import product_search
from rapport.knowledge.demo import DEMO_PRODUCTS
from rapport.knowledge.demo import seed_demo as seed_knowledge
from rapport.knowledge.embedding import use_embedder
from rapport.knowledge.products import product_sheets
from rapport.knowledge.schemas import MAX_FACTS, ProductHit
from rapport.nlp.ports import Embedder
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.knowledge import UpgradedEmbedder, make_product_sheet

SHEET = {
    "name": "Linen shirt",
    "sku": "LS-01",
    "description": "A relaxed shirt in washed linen. Free returns within 30 days.",
    "facts": [
        {"name": "Material", "value": "100 % European linen"},
        {"name": "Care", "value": "machine wash at 30 °C, line dry"},
        {"name": "Colours", "value": "white, sand and navy"},
    ],
    "url": "https://shop.example.com/products/linen-shirt",
}


async def _headers(database: Database) -> tuple[Workspace, dict[str, str]]:
    workspace = await make_workspace(database)
    return workspace, bearer(await make_api_key(database, workspace))


async def _answer(
    database: Database, workspace_id: str, question: str, locale: str | None = None
) -> list[ProductHit]:
    async with database.session() as session:
        return await product_sheets.answer(session, workspace_id, question, locale=locale)


async def test_a_sheet_is_written_whole_then_replaced_and_read_back(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _headers(database)
    path = "/api/v1/product-sheets/linen-shirt/en"
    created = await client.put(path, json=SHEET, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["facts"] == SHEET["facts"]
    assert created.json()["author"].startswith("api_key:")
    replaced = await client.put(path, json={"name": "Linen shirt"}, headers=headers)
    assert replaced.status_code == 200
    read = (await client.get(path, headers=headers)).json()
    assert (read["id"], read["facts"], read["sku"], read["url"]) == (
        created.json()["id"],
        [],
        None,
        None,
    )
    assert read["updated_at"] >= created.json()["updated_at"]


async def test_locales_are_separate_sheets_and_the_path_locale_is_normalised(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _headers(database)
    english = await client.put("/api/v1/product-sheets/linen-shirt/en", json=SHEET, headers=headers)
    brazilian = await client.put(
        "/api/v1/product-sheets/linen-shirt/pt-br",
        json={"name": "Camisa de linho"},
        headers=headers,
    )
    assert (english.status_code, brazilian.status_code) == (201, 201)
    assert brazilian.json()["locale"] == "pt-BR"
    listed = await client.get("/api/v1/product-sheets?product_key=linen-shirt", headers=headers)
    assert {item["locale"] for item in listed.json()["items"]} == {"en", "pt-BR"}
    assert (await client.get("/api/v1/product-sheets/linen-shirt/de", headers=headers)).json() == {
        "error": "ProductSheetNotFound",
        "detail": "No de fact sheet for this product.",
    }


async def test_the_list_pages_newest_first(client: httpx.AsyncClient, database: Database) -> None:
    workspace, headers = await _headers(database)
    for number in range(5):
        await make_product_sheet(database, workspace.id, f"product-{number}", name=f"Item {number}")
    first = (await client.get("/api/v1/product-sheets?limit=3", headers=headers)).json()
    cursor = first["next_cursor"]
    rest = (
        await client.get(f"/api/v1/product-sheets?limit=3&cursor={cursor}", headers=headers)
    ).json()
    keys = [item["product_key"] for item in first["items"] + rest["items"]]
    assert keys == [f"product-{number}" for number in reversed(range(5))]
    assert rest["next_cursor"] is None


async def test_deleting_one_locale_keeps_the_others_and_stops_its_answers(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, headers = await _headers(database)
    await client.put("/api/v1/product-sheets/linen-shirt/en", json=SHEET, headers=headers)
    await client.put(
        "/api/v1/product-sheets/linen-shirt/de", json={"name": "Leinenhemd"}, headers=headers
    )
    assert await _answer(database, workspace.id, "Is the linen shirt machine washable?")
    deleted = await client.delete("/api/v1/product-sheets/linen-shirt/en", headers=headers)
    assert deleted.status_code == 204
    assert (
        await client.get("/api/v1/product-sheets/linen-shirt/de", headers=headers)
    ).status_code == 200
    # The workspace's list of sheets is forgotten when one is written or deleted.
    assert await _answer(database, workspace.id, "Is the linen shirt machine washable?") == []
    again = await client.delete("/api/v1/product-sheets/linen-shirt/en", headers=headers)
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "at least 1 character"),
        ({"name": "Shirt\x00"}, "pattern"),
        ({"facts": [{"name": "Care", "value": "a"}, {"name": "care", "value": "b"}]}, "once"),
        ({"facts": [{"name": f"F{n}", "value": "v"} for n in range(MAX_FACTS + 1)]}, "at most 50"),
        ({"facts": {"Material": "linen"}}, "valid list"),
        ({"facts": [{"name": "Care", "value": "x" * 501}]}, "at most 500"),
        ({"url": "javascript:alert(1)"}, "http:// or https://"),
        ({"url": "https://shop.example.com/a b"}, "http:// or https://"),
        ({"description": "x" * 5_001}, "at most 5000"),
        ({"sku": 12}, "valid string"),
        ({"facts": [{"name": "Size: EU", "value": "42"}]}, "pattern"),
        ({"description": "Soft.\x01"}, "pattern"),
    ],
)
async def test_bad_sheets_are_422_with_the_reason(
    client: httpx.AsyncClient, database: Database, change: dict[str, Any], message: str
) -> None:
    _, headers = await _headers(database)
    response = await client.put(
        "/api/v1/product-sheets/linen-shirt/en", json={**SHEET, **change}, headers=headers
    )
    assert response.status_code == 422
    assert message in response.text


@pytest.mark.parametrize("key", ["%20linen", "linen%20", "a%E2%80%AEb", "a%C2%85b", "%2E%2E", "."])
async def test_a_product_id_that_cannot_be_an_address_is_refused(
    client: httpx.AsyncClient, database: Database, key: str
) -> None:
    workspace, headers = await _headers(database)
    response = await client.put(f"/api/v1/product-sheets/{key}/en", json=SHEET, headers=headers)
    assert response.status_code in (400, 404, 422), response.text
    async with database.session() as session:
        assert (await product_sheets.page(session, workspace.id)).items == []


async def test_a_description_keeps_its_line_breaks(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _headers(database)
    body = {**SHEET, "description": "Soft.\n\tWarm.\r\nLight."}
    response = await client.put("/api/v1/product-sheets/linen-shirt/en", json=body, headers=headers)
    assert (response.status_code, response.json()["description"]) == (201, body["description"])


async def test_a_bad_locale_in_the_path_is_400(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _headers(database)
    for locale in ("english!", "x" * 40):
        path = f"/api/v1/product-sheets/linen-shirt/{locale}"
        response = await client.put(path, json=SHEET, headers=headers)
        assert response.status_code == 400
        assert "BCP 47" in response.json()["detail"]


async def test_another_workspace_neither_reads_nor_answers_from_a_sheet(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, headers = await _headers(database)
    await client.put("/api/v1/product-sheets/linen-shirt/en", json=SHEET, headers=headers)
    stranger, stranger_headers = await _headers(database)
    response = await client.get("/api/v1/product-sheets/linen-shirt/en", headers=stranger_headers)
    assert response.status_code == 404
    assert await _answer(database, stranger.id, "Is the linen shirt machine washable?") == []
    assert await _answer(database, workspace.id, "Is the linen shirt machine washable?")


async def test_a_put_with_another_workspaces_product_id_writes_only_the_callers_own(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _headers(database)
    await client.put("/api/v1/product-sheets/linen-shirt/en", json=SHEET, headers=headers)
    stranger, stranger_headers = await _headers(database)
    path = "/api/v1/product-sheets/linen-shirt/en"
    response = await client.put(path, json={"name": "Mine"}, headers=stranger_headers)
    assert response.status_code == 201  # a new sheet, in the stranger's own workspace
    theirs = (await client.get(path, headers=headers)).json()
    assert (theirs["name"], theirs["facts"]) == ("Linen shirt", SHEET["facts"])
    async with database.session() as session:
        own = await product_sheets.get(session, stranger.id, "linen-shirt", "en")
    assert (own.name, own.workspace_id) == ("Mine", stranger.id)


async def test_a_question_that_names_a_product_gets_the_fact_it_asks_about(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(database, workspace.id, "linen-shirt", facts=[
        ("Material", "100 % linen"), ("Care", "machine wash at 30 °C"), ("Colours", "white, sand"),
    ])  # fmt: skip
    await make_product_sheet(database, workspace.id, "tote", name="Canvas tote bag")
    hits = await _answer(database, workspace.id, "Which colours does the linen shirt come in?")
    assert [(hit.product_key, hit.title, hit.snippet) for hit in hits] == [
        ("linen-shirt", "Linen shirt — Colours", "white, sand")
    ]
    assert hits[0].facts[0].name == "Colours" and hits[0].url == ""
    assert 0.5 < hits[0].score <= 1


async def test_a_question_that_names_no_product_or_two_equally_gets_no_answer(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(database, workspace.id, "linen-shirt", name="Linen shirt")
    await make_product_sheet(database, workspace.id, "linen-dress", name="Linen dress")
    await make_product_sheet(database, workspace.id, "denim-shirt", name="Denim shirt")
    assert await _answer(database, workspace.id, "How do I care for it?") == []
    # "linen" names two products as well as each other: which one is meant is not guessed.
    assert await _answer(database, workspace.id, "What is the linen made of? material?") == []
    named = await _answer(database, workspace.id, "What material is the linen dress?")
    assert [hit.product_key for hit in named] == ["linen-dress"]


async def test_another_word_in_place_of_part_of_the_name_is_another_product(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(database, workspace.id, "hemp", name="Hemp shirt")
    # The shop sells a hemp shirt, not a silk one: its facts would answer the wrong product.
    assert await _answer(database, workspace.id, "Can I machine wash the silk shirt?") == []
    named = await _answer(database, workspace.id, "Can I machine wash the shirt?")
    assert [hit.product_key for hit in named] == ["hemp"]


async def test_a_tie_between_two_products_names_neither(database: Database) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(database, workspace.id, "jacket", name="Denim jacket")
    await make_product_sheet(database, workspace.id, "shirt", name="Hemp shirt")
    assert await _answer(database, workspace.id, "What material is the denim shirt?") == []


async def test_a_name_inside_another_products_name_is_still_named(database: Database) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(database, workspace.id, "shirt", name="Linen shirt")
    await make_product_sheet(database, workspace.id, "dress", name="Linen shirt dress")
    shirt = await _answer(database, workspace.id, "What material is the linen shirt?")
    dress = await _answer(database, workspace.id, "What material is the linen shirt dress?")
    assert [hit.product_key for hit in shirt + dress] == ["shirt", "dress"]


async def test_the_rarer_word_of_a_name_weighs_more(database: Database) -> None:
    workspace = await make_workspace(database)
    for key, name in [("a", "Canvas tote bag"), ("b", "Leather bag"), ("c", "Paper bag")]:
        await make_product_sheet(database, workspace.id, key, name=name, facts=[("Care", "wipe")])
    # "tote" is one name's word, "bag" all three's: "the tote" names the canvas tote bag.
    hits = await _answer(database, workspace.id, "How do I care for the tote?")
    assert [hit.product_key for hit in hits] == ["a"]


@pytest.mark.parametrize(
    "question",
    ["care instructions for LS-010?", "LS010 care", "#ls-010's care?", "care of LS 010"],
)
async def test_a_sku_names_its_product_however_it_is_written(
    database: Database, question: str
) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(
        database, workspace.id, "ls", sku="LS-010", facts=[("Care", "cold wash")]
    )
    hits = await _answer(database, workspace.id, question)
    assert [(hit.product_key, hit.snippet) for hit in hits] == [("ls", "cold wash")]


async def test_a_quoted_sku_alone_gets_the_products_description(database: Database) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(database, workspace.id, "ls", sku="LS-010", description="A shirt.")
    hits = await _answer(database, workspace.id, "What is LS-010?")
    assert [(hit.product_key, hit.snippet) for hit in hits] == [("ls", "A shirt.")]


async def test_a_short_or_order_like_sku_names_nothing(database: Database) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(database, workspace.id, "cap", name="Cap", sku="XL")
    await make_product_sheet(database, workspace.id, "mug", name="Mug", sku="1001")
    await make_product_sheet(database, workspace.id, "jacket", name="Denim jacket")
    hits = await _answer(database, workspace.id, "Does the denim jacket come in XL material?")
    assert [hit.product_key for hit in hits] == ["jacket"]
    assert await _answer(database, workspace.id, "Where is order 1001? material?") == []


async def test_a_question_that_only_names_the_product_gets_its_description(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(
        database, workspace.id, description="A relaxed shirt. Free returns within 30 days."
    )
    hits = await _answer(database, workspace.id, "linen shirt?")
    assert [(hit.title, hit.snippet) for hit in hits] == [("Linen shirt", "A relaxed shirt.")]


async def test_a_named_product_with_nothing_on_the_question_gets_no_answer(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(database, workspace.id)
    assert await _answer(database, workspace.id, "Is the linen shirt waterproof?") == []


async def test_the_customers_language_is_preferred_then_the_default(database: Database) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(database, workspace.id, facts=[("Care", "machine wash")])
    await make_product_sheet(
        database,
        workspace.id,
        locale="es",
        name="Camisa de lino",
        facts=[("Cuidado", "lavar a máquina")],
    )
    spanish = await _answer(
        database, workspace.id, "¿La camisa de lino se puede lavar a máquina?", "es"
    )
    assert [(hit.locale, hit.snippet) for hit in spanish] == [("es", "lavar a máquina")]
    # No German sheet: the workspace's default locale (English) answers.
    german = await _answer(database, workspace.id, "linen shirt machine wash?", "de")
    assert [(hit.locale, hit.snippet) for hit in german] == [("en", "machine wash")]


async def test_an_empty_or_punctuation_question_gets_no_answer(database: Database) -> None:
    workspace = await make_workspace(database)
    await make_product_sheet(database, workspace.id)
    assert await _answer(database, workspace.id, "   ") == []
    assert await _answer(database, workspace.id, "?!") == []


@pytest.mark.parametrize(
    ("locale", "question", "expected"),
    [
        ("de", "Wie viel kostet die Tasche?", "Canvas-Tasche — Preis"),
        ("de", "Ist die Tasche waschbar?", "Canvas-Tasche — Pflege"),
        ("fr", "Combien coûte le sac ?", "Sac en toile — Prix"),
        ("es", "¿Cuánto mide la bolsa?", "Bolsa de lona — Medidas"),
        ("es", "¿Qué colores tiene la bolsa?", "Bolsa de lona — Colores"),
        ("es", "¿La bolsa es impermeable?", None),  # no subject of its facts
    ],
)
async def test_common_facts_are_asked_for_in_the_customers_words(
    database: Database, locale: str, question: str, expected: str | None
) -> None:
    # MiniLM learned English: in another language a fact answers through a shared word, and
    # "kostet" shares none with "Preis". The common facts' subjects (price, size, care,
    # material, colours) are known in the four languages the assistant speaks.
    names = {"de": "Canvas-Tasche", "fr": "Sac en toile", "es": "Bolsa de lona"}
    facts = {
        "de": [("Preis", "49,00 €"), ("Pflege", "kalte Handwäsche"), ("Größe", "38 x 42 cm")],
        "fr": [("Prix", "49,00 €"), ("Entretien", "lavage à la main"), ("Taille", "38 x 42 cm")],
        "es": [("Precio", "49,00 €"), ("Medidas", "38 x 42 cm"), ("Colores", "crudo y negro")],
    }
    workspace = await make_workspace(database)
    await make_product_sheet(
        database,
        workspace.id,
        "canvas-tote-bag",
        locale=locale,
        name=names[locale],
        facts=facts[locale],
    )
    hits = await _answer(database, workspace.id, question, locale)
    assert [hit.title for hit in hits] == ([expected] if expected else [])


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much is the linen shirt?", "Linen shirt — Price"),
        ("Is the linen shirt machine washable?", "Linen shirt — Care"),
        ("How big is the canvas tote bag?", "Canvas tote bag — Size"),
        ("Is the tote bag waterproof?", None),
        ("Is the linen shirt see-through?", None),
    ],
)
async def test_the_demo_sheets_with_minilm(
    database: Database, minilm: Embedder, question: str, expected: str | None
) -> None:
    workspace = await make_workspace(database)
    async with database.session() as session:
        await seed_knowledge(session, workspace.id)
    hits = await _answer(database, workspace.id, question)
    assert [hit.title for hit in hits] == ([expected] if expected else [])


async def test_meaning_alone_answers_only_from_english_sheets(
    database: Database, minilm: Embedder
) -> None:
    workspace = await make_workspace(database)
    async with database.session() as session:
        await seed_knowledge(session, workspace.id)
    # A word shared with a line answers in Spanish; MiniLM's closeness alone does not.
    washing = await _answer(
        database, workspace.id, "¿La camisa de lino se puede lavar a máquina?", "es"
    )
    assert [hit.title for hit in washing] == ["Camisa de lino — Cuidado"]
    assert await _answer(database, workspace.id, "¿La camisa de lino abriga?", "es") == []
    # A price is asked for by its subject's words ("cuesta" for "Precio").
    price = await _answer(database, workspace.id, "¿Cuánto cuesta la camisa de lino?", "es")
    assert [hit.title for hit in price] == ["Camisa de lino — Precio"]


def test_the_demo_sheets_name_the_demo_orders_products() -> None:
    keys = {key for key, _, _ in DEMO_PRODUCTS}
    assert keys == {order.item.lower().replace(" ", "-") for order in DEMO_ORDERS}


async def test_sheets_of_another_model_are_embedded_again_before_a_unit_of_work(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    sheet_id = await make_product_sheet(database, workspace.id)  # by the fake embedder
    upgraded = UpgradedEmbedder(database)
    use_embedder(upgraded)
    question = "Is the linen shirt machine washable?"
    first = await _answer(database, workspace.id, question)  # by shared words meanwhile
    assert [hit.title for hit in first] == ["Linen shirt — Care"]
    assert sheet_id in product_search.stale
    again = await _answer(database, workspace.id, question)
    assert [hit.title for hit in again] == ["Linen shirt — Care"]
    assert sheet_id not in product_search.stale
    assert [
        item.model for item in product_search.index._items.values() if item.sheet_id == sheet_id
    ] == [upgraded.name]
    assert upgraded.held and set(upgraded.held) == {0}  # no connection held while it ran
