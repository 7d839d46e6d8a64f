"""The console's product fact sheet pages: write one from the form, replace and delete it,
try a customer's question, bad forms, and who may write."""

from __future__ import annotations

import httpx
import pytest

from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.identity.models import Workspace
from rapport.knowledge.products import CatalogUpdate, product_sheets
from rapport.knowledge.schemas import Fact, ProductSheetWrite
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.knowledge import make_product_sheet
from tests.web.console import csrf_of, sign_in

FORM = {
    "product_key": "linen shirt #7",
    "locale": "EN",
    "name": "Linen shirt",
    "sku": "LS-07",
    "url": "https://shop.example.com/linen-shirt",
    "facts": "Material: 100 % linen\n\nCare: machine wash: 30 °C max\n",
    "description": "A relaxed shirt.",
}


async def _signed_in(
    client: httpx.AsyncClient, database: Database, role: Role = Role.supervisor
) -> tuple[Workspace, str]:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace, role)
    await sign_in(client, account.email, account.password)
    return workspace, csrf_of((await client.get("/console/settings/profile")).text)


async def test_a_sheet_written_in_the_form_is_saved_and_shown(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database)
    response = await client.post("/console/product-sheets", data={**FORM, "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/console/product-sheets/linen%20shirt%20%237/en"
    async with database.session() as session:
        sheet = await product_sheets.get(session, workspace.id, "linen shirt #7", "en")
    assert sheet.facts == [["Material", "100 % linen"], ["Care", "machine wash: 30 °C max"]]
    assert sheet.sku == "LS-07" and sheet.author.startswith("staff:")
    page = (await client.get(response.headers["location"])).text
    assert "Material: 100 % linen\nCare: machine wash: 30 °C max</textarea>" in page
    listed = (await client.get("/console/product-sheets")).text
    assert 'href="/console/product-sheets/linen%20shirt%20%237/en">Linen shirt</a>' in listed


async def test_saving_again_replaces_the_sheet(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database)
    await client.post("/console/product-sheets", data={**FORM, "csrf_token": token})
    again = {**FORM, "csrf_token": token, "facts": "Colours: white", "sku": ""}
    assert (await client.post("/console/product-sheets", data=again)).status_code == 303
    async with database.session() as session:
        sheet = await product_sheets.get(session, workspace.id, "linen shirt #7", "en")
        listed = await product_sheets.page(session, workspace.id)
    assert (sheet.facts, sheet.sku, len(listed.items)) == ([["Colours", "white"]], None, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"facts": "Material 100 % linen"}, "Facts, line 1: write it as Name: value."),
        ({"facts": "Care: cold\n: nothing"}, "Facts, line 2: write it as Name: value."),
        ({"product_key": "shirts/linen"}, "Check the product id"),
        ({"locale": "english!"}, "BCP 47"),
        ({"url": "ftp://shop.example.com"}, "Check the url field"),
        ({"facts": "Care: a\ncare: b"}, "each fact name may appear once"),
    ],
)
async def test_a_bad_form_says_why_and_saves_nothing(
    client: httpx.AsyncClient, database: Database, change: dict[str, str], message: str
) -> None:
    workspace, token = await _signed_in(client, database)
    response = await client.post(
        "/console/product-sheets", data={**FORM, **change, "csrf_token": token}
    )
    assert response.status_code in (400, 422)
    assert message in response.text
    async with database.session() as session:
        assert (await product_sheets.page(session, workspace.id)).items == []


async def test_a_question_shows_what_the_assistant_would_answer(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, _ = await _signed_in(client, database)
    await make_product_sheet(database, workspace.id, facts=[("Care", "machine wash")])
    answered = await client.get(
        "/console/product-sheets", params={"q": "How do I care for the linen shirt?"}
    )
    assert "<strong>Linen shirt — Care:</strong> machine wash" in answered.text
    unanswered = await client.get("/console/product-sheets", params={"q": "Do you ship to Oslo?"})
    assert "No sheet answers this" in unanswered.text


async def test_delete_removes_one_locale(client: httpx.AsyncClient, database: Database) -> None:
    workspace, token = await _signed_in(client, database)
    await make_product_sheet(database, workspace.id)
    await make_product_sheet(database, workspace.id, locale="de", name="Leinenhemd")
    response = await client.post(
        "/console/product-sheets/linen-shirt/en/delete", data={"csrf_token": token}
    )
    assert (response.status_code, response.headers["location"]) == (303, "/console/product-sheets")
    assert (await client.get("/console/product-sheets/linen-shirt/en")).status_code == 404
    assert (await client.get("/console/product-sheets/linen-shirt/de")).status_code == 200


async def test_an_agent_reads_sheets_but_cannot_write_them(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database, Role.agent)
    await make_product_sheet(database, workspace.id)
    shown = await client.get("/console/product-sheets/linen-shirt/en")
    assert (
        shown.status_code == 200
        and 'name="name" value="Linen shirt" maxlength="200" required disabled' in shown.text
    )
    assert "Delete this locale" not in shown.text
    refused = await client.post("/console/product-sheets", data={**FORM, "csrf_token": token})
    assert refused.status_code == 403
    deleting = await client.post(
        "/console/product-sheets/linen-shirt/en/delete", data={"csrf_token": token}
    )
    assert deleting.status_code == 403


async def test_another_workspaces_sheet_is_not_found(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _signed_in(client, database)
    other = await make_workspace(database)
    await make_product_sheet(database, other.id)
    assert (await client.get("/console/product-sheets/linen-shirt/en")).status_code == 404
    assert "Linen shirt" not in (await client.get("/console/product-sheets")).text


async def test_a_synced_sheet_says_which_facts_the_store_keeps(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, token = await _signed_in(client, database)
    catalog = ProductSheetWrite(
        name="Linen shirt",
        facts=[Fact(name="Type", value="Shirts"), Fact(name="Price", value="49.00")],
    )
    embedding = await product_sheets.embed_sheet(catalog)
    async with database.session() as session:
        await product_sheets.sync(
            session, workspace.id, "p7", "en", CatalogUpdate(catalog),
            author="shopify", embedding=embedding,
        )  # fmt: skip
    page = (await client.get("/console/product-sheets/p7/en")).text
    assert "Kept in sync by your Shopify store: Type, Price." in page
    form = {**FORM, "product_key": "p7", "facts": "Type: Shirts\nPrice: 49.00\nFit: relaxed"}
    saved = await client.post("/console/product-sheets", data={**form, "csrf_token": token})
    assert saved.status_code == 303
    async with database.session() as session:
        sheet = await product_sheets.get(session, workspace.id, "p7", "en")
    assert (sheet.synced_facts, len(sheet.facts)) == (["Type", "Price"], 3)
    await make_product_sheet(database, workspace.id, "by-hand")
    assert "Kept in sync" not in (await client.get("/console/product-sheets/by-hand/en")).text
