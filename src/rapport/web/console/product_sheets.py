"""Console: product fact sheets (list, try a customer's question, write, delete), which the
assistant answers product questions from."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Path, Query, Response
from fastapi.responses import HTMLResponse

from rapport.core.deps import SessionDep
from rapport.errors import BadRequest, UnprocessableContent
from rapport.identity.enums import Scope
from rapport.knowledge.products import product_sheets
from rapport.knowledge.schemas import (
    MAX_DESCRIPTION,
    MAX_FACTS,
    PRODUCT_KEY_PATTERN,
    ProductSheetRead,
    ProductSheetWrite,
    normal_locale,
)
from rapport.knowledge.service import articles
from rapport.web.console.context import ConsoleContext, console_requiring
from rapport.web.console.routing import console_router, see_other
from rapport.web.console.templating import page

router = console_router()
ReadConsole = Annotated[ConsoleContext, console_requiring(Scope.knowledge_read)]
WriteConsole = Annotated[ConsoleContext, console_requiring(Scope.knowledge_write)]
ProductKey = Annotated[str, Path(max_length=255, pattern=PRODUCT_KEY_PATTERN)]
LocaleTag = Annotated[str, Path(max_length=35)]
Short = Annotated[str, Form(max_length=2_048)]
LIST_PAGE = 50
# Up to MAX_FACTS lines of "Name: value" (each at most 60 + 500 characters).
FACTS_CHARS = MAX_FACTS * 600


def _locale(value: str) -> str:
    try:
        return normal_locale(value.strip())
    except ValueError as error:
        raise BadRequest(str(error)) from error


def facts_from_text(text: str) -> list[dict[str, str]]:
    """Read facts written one a line as "Name: value" (blank lines skipped)."""
    facts = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or not value.strip():
            raise UnprocessableContent(f"Facts, line {number}: write it as Name: value.")
        facts.append({"name": name.strip(), "value": value.strip()})
    return facts


def facts_as_text(sheet: ProductSheetRead | None) -> str:
    """Write a sheet's facts one a line, as the form reads them."""
    return "" if sheet is None else "\n".join(f"{f.name}: {f.value}" for f in sheet.facts)


@router.get("/product-sheets", response_class=HTMLResponse)
async def list_sheets(
    ctx: ReadConsole,
    session: SessionDep,
    q: Annotated[str, Query(max_length=1_000)] = "",
    locale: Annotated[str, Query(max_length=35)] = "",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """List the fact sheets; with `q`, show what the assistant would answer from them."""
    workspace_id = ctx.principal.workspace_id
    chosen = _locale(locale) if locale.strip() else None
    answers = None
    if q.strip():
        answers = await product_sheets.answer(session, workspace_id, q, locale=chosen)
    found = await product_sheets.page(session, workspace_id, cursor=cursor, limit=LIST_PAGE)
    return page(
        ctx,
        "knowledge/product_sheets.html",
        query=q.strip(),
        locale=chosen or "",
        answers=answers,
        sheets=found.items,
        next_cursor=found.next_cursor,
    )


@router.get("/product-sheets/new", response_class=HTMLResponse)
async def new_sheet(ctx: WriteConsole, session: SessionDep) -> Response:
    """Show the form for a new fact sheet."""
    locale = await articles.default_locale(session, ctx.principal.workspace_id)
    return page(ctx, "knowledge/product_sheet.html", sheet=None, facts="", locale=locale)


@router.get("/product-sheets/{product_key}/{locale}", response_class=HTMLResponse)
async def show_sheet(
    ctx: ReadConsole, session: SessionDep, product_key: ProductKey, locale: LocaleTag
) -> Response:
    """Show a fact sheet's form."""
    found = await product_sheets.get(
        session, ctx.principal.workspace_id, product_key, _locale(locale)
    )
    sheet = ProductSheetRead.model_validate(found)
    return page(
        ctx,
        "knowledge/product_sheet.html",
        sheet=sheet,
        facts=facts_as_text(sheet),
        locale=sheet.locale,
    )


@router.post("/product-sheets")
async def save_sheet(
    ctx: WriteConsole,
    session: SessionDep,
    product_key: Annotated[str, Form(max_length=255)] = "",
    locale: Annotated[str, Form(max_length=35)] = "",
    name: Short = "",
    sku: Short = "",
    url: Short = "",
    description: Annotated[str, Form(max_length=MAX_DESCRIPTION)] = "",
    facts: Annotated[str, Form(max_length=FACTS_CHARS)] = "",
) -> Response:
    """Write a fact sheet whole (a new one, or one replaced)."""
    key = product_key.strip()
    if not re.fullmatch(PRODUCT_KEY_PATTERN, key):
        raise UnprocessableContent("Check the product id: it is required and has no slash.")
    # A field the schema refuses is "Check the <field> field: ..." (the console router's).
    body = ProductSheetWrite.model_validate(
        {
            "name": name,
            "sku": sku.strip() or None,
            "url": url.strip() or None,
            "description": description,
            "facts": facts_from_text(facts),
        }
    )
    chosen = _locale(locale)
    author = f"staff:{ctx.user.id}"
    await product_sheets.put(session, ctx.principal.workspace_id, key, chosen, body, author=author)
    return see_other(ctx.request, _path(key, chosen))


@router.post("/product-sheets/{product_key}/{locale}/delete")
async def delete_sheet(
    ctx: WriteConsole, session: SessionDep, product_key: ProductKey, locale: LocaleTag
) -> Response:
    """Delete a fact sheet in one locale."""
    await product_sheets.delete(session, ctx.principal.workspace_id, product_key, _locale(locale))
    return see_other(ctx.request, "/console/product-sheets")


def _path(product_key: str, locale: str) -> str:
    return f"/console/product-sheets/{quote(product_key, safe='')}/{locale}"
