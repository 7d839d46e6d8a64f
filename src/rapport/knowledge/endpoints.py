"""HTTP: articles (CRUD and search), product fact sheets and the knowledge base settings; the
public help center is `help_router`, mounted at /help, and Shopify's product webhooks are
`shopify_router`, under /v1 (see domains.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from rapport.core.deps import DatabaseDep, SessionDep
from rapport.errors import BadRequest, error_responses
from rapport.events.errors import MalformedRequest
from rapport.events.shopify import read_product, read_product_key, shopify
from rapport.knowledge.auth import (
    ArticleId,
    KnowledgeRead,
    KnowledgeWrite,
    LocaleTag,
    ProductKey,
    author_of,
)
from rapport.knowledge.enums import ArticleStatus
from rapport.knowledge.errors import (
    ArticleNotFound,
    InvalidProductKey,
    ProductSheetNotFound,
    SlugTaken,
    TranslationExists,
)
from rapport.knowledge.help_endpoints import help_router as help_router
from rapport.knowledge.models import Article, ProductSheet
from rapport.knowledge.products import CatalogUpdate, product_sheets
from rapport.knowledge.schemas import (
    ArticleCreate,
    ArticleHit,
    ArticlePage,
    ArticleRead,
    ArticleUpdate,
    KnowledgeSettingsRead,
    KnowledgeSettingsUpdate,
    ProductHit,
    ProductSheetPage,
    ProductSheetRead,
    ProductSheetWrite,
    normal_locale,
)
from rapport.knowledge.service import articles, search
from rapport.knowledge.shopify import SHOPIFY_AUTHOR, sheet_of

router = APIRouter(tags=["knowledge"])
shopify_router = APIRouter(prefix="/v1", tags=["ingestion"], include_in_schema=False)

Cursor = Annotated[
    str | None,
    Query(max_length=500, pattern=r"^[A-Za-z0-9_=-]*$", description="From `next_cursor`."),
]
LocaleFilter = Annotated[
    str | None, Query(max_length=35, description="Only this locale (BCP 47, such as de).")
]


def _locale(value: str | None) -> str | None:
    return None if value is None else _path_locale(value)


def _path_locale(value: str) -> str:
    try:
        return normal_locale(value)
    except ValueError as error:
        raise BadRequest(str(error)) from error


@router.get("/articles", response_model=ArticlePage, responses=error_responses(BadRequest))
async def list_articles(
    principal: KnowledgeRead,
    session: SessionDep,
    status: Annotated[ArticleStatus | None, Query(description="Only this status.")] = None,
    locale: LocaleFilter = None,
    tag: Annotated[str | None, Query(max_length=50, description="Only with this tag.")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Most items to return.")] = 50,
) -> ArticlePage:
    """List articles, drafts included, newest first."""
    return await articles.page(
        session,
        principal.workspace_id,
        status=status,
        locale=_locale(locale),
        tag=tag,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/articles/search", response_model=list[ArticleHit], responses=error_responses(BadRequest)
)
async def search_articles(
    principal: KnowledgeRead,
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="What to look for.")],
    locale: LocaleFilter = None,
    limit: Annotated[int, Query(ge=1, le=50, description="Most hits to return.")] = 5,
    published_only: Annotated[bool, Query(description="Leave drafts out.")] = True,
) -> list[ArticleHit]:
    """Search articles by words and meaning (hybrid), best first."""
    return await search(
        session,
        principal.workspace_id,
        q,
        locale=_locale(locale),
        limit=limit,
        published_only=published_only,
    )


@router.post(
    "/articles",
    response_model=ArticleRead,
    status_code=201,
    responses=error_responses(ArticleNotFound, SlugTaken, TranslationExists),
)
async def create_article(
    body: ArticleCreate, principal: KnowledgeWrite, session: SessionDep
) -> Article:
    """Write an article (a draft unless `status` is published); `translation_of` links it."""
    return await articles.create(session, principal.workspace_id, body, author=author_of(principal))


@router.get(
    "/articles/{article_id}", response_model=ArticleRead, responses=error_responses(ArticleNotFound)
)
async def get_article(
    article_id: ArticleId, principal: KnowledgeRead, session: SessionDep
) -> Article:
    """Return an article, draft or published."""
    return await articles.get(session, principal.workspace_id, article_id)


@router.patch(
    "/articles/{article_id}",
    response_model=ArticleRead,
    responses=error_responses(ArticleNotFound, SlugTaken),
)
async def update_article(
    article_id: ArticleId, body: ArticleUpdate, principal: KnowledgeWrite, session: SessionDep
) -> Article:
    """Change an article's title, text, slug or tags; publish or unpublish it."""
    return await articles.update(session, principal.workspace_id, article_id, body)


@router.delete(
    "/articles/{article_id}", status_code=204, responses=error_responses(ArticleNotFound)
)
async def delete_article(
    article_id: ArticleId, principal: KnowledgeWrite, session: SessionDep
) -> Response:
    """Delete an article in one locale (its translations stay)."""
    await articles.delete(session, principal.workspace_id, article_id)
    return Response(status_code=204)


@router.get("/knowledge-settings", response_model=KnowledgeSettingsRead)
async def get_knowledge_settings(
    principal: KnowledgeRead, session: SessionDep
) -> KnowledgeSettingsRead:
    """Return the knowledge base settings (the locale searches fall back to)."""
    locale = await articles.default_locale(session, principal.workspace_id)
    return KnowledgeSettingsRead(default_locale=locale)


@router.put("/knowledge-settings", response_model=KnowledgeSettingsRead)
async def update_knowledge_settings(
    body: KnowledgeSettingsUpdate, principal: KnowledgeWrite, session: SessionDep
) -> KnowledgeSettingsRead:
    """Change the locale searches fall back to."""
    locale = await articles.set_default_locale(session, principal.workspace_id, body.default_locale)
    return KnowledgeSettingsRead(default_locale=locale)


@router.get(
    "/product-sheets", response_model=ProductSheetPage, responses=error_responses(BadRequest)
)
async def list_product_sheets(
    principal: KnowledgeRead,
    session: SessionDep,
    product_key: Annotated[
        str | None, Query(max_length=255, description="Only this product's sheets.")
    ] = None,
    locale: LocaleFilter = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Most items to return.")] = 50,
) -> ProductSheetPage:
    """List product fact sheets, newest first."""
    return await product_sheets.page(
        session,
        principal.workspace_id,
        product_key=product_key,
        locale=_locale(locale),
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/product-sheets/search", response_model=list[ProductHit], responses=error_responses(BadRequest)
)
async def search_product_sheets(
    principal: KnowledgeRead,
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="A customer's question.")],
    locale: LocaleFilter = None,
) -> list[ProductHit]:
    """Answer a question from the fact sheet of the product it names, as the assistant does:
    the facts that answer it, or nothing when it names no product (or two equally)."""
    return await product_sheets.answer(session, principal.workspace_id, q, locale=_locale(locale))


@router.put(
    "/product-sheets/{product_key}/{locale}",
    response_model=ProductSheetRead,
    responses={201: {"model": ProductSheetRead}, **error_responses(BadRequest, InvalidProductKey)},
)
async def put_product_sheet(
    product_key: ProductKey,
    locale: LocaleTag,
    body: ProductSheetWrite,
    principal: KnowledgeWrite,
    session: SessionDep,
    response: Response,
) -> ProductSheet:
    """Write a product's fact sheet in one locale whole (201 when new, 200 when replaced)."""
    sheet, created = await product_sheets.put(
        session,
        principal.workspace_id,
        product_key,
        _path_locale(locale),
        body,
        author=author_of(principal),
    )
    response.status_code = 201 if created else 200
    return sheet


@router.get(
    "/product-sheets/{product_key}/{locale}",
    response_model=ProductSheetRead,
    responses=error_responses(BadRequest, ProductSheetNotFound),
)
async def get_product_sheet(
    product_key: ProductKey, locale: LocaleTag, principal: KnowledgeRead, session: SessionDep
) -> ProductSheet:
    """Return a product's fact sheet in one locale."""
    return await product_sheets.get(
        session, principal.workspace_id, product_key, _path_locale(locale)
    )


@router.delete(
    "/product-sheets/{product_key}/{locale}",
    status_code=204,
    responses=error_responses(BadRequest, ProductSheetNotFound),
)
async def delete_product_sheet(
    product_key: ProductKey, locale: LocaleTag, principal: KnowledgeWrite, session: SessionDep
) -> Response:
    """Delete a product's fact sheet in one locale (its other locales stay)."""
    await product_sheets.delete(session, principal.workspace_id, product_key, _path_locale(locale))
    return Response(status_code=204)


@shopify_router.post("/webhooks/shopify/{write_key}/products-update")
async def receive_shopify_product(
    write_key: str, request: Request, database: DatabaseDep
) -> JSONResponse:
    """Keep a product's fact sheet from a Shopify `products/create` or `products/update`
    webhook (verified by X-Shopify-Hmac-Sha256), in the workspace's default locale; the
    facts written by hand stay (`synced_sheet`), and a delivery of a version older than the
    sheet's changes nothing (`"applied": false`)."""
    # Verified and embedded before the sheet's unit of work opens (the body middleware has
    # read it whole): no unit waits on a sender or on the model.
    body = await request.body()
    given = request.headers.get("x-shopify-hmac-sha256", "")
    workspace_id = await shopify.verified(database, write_key, body, given)
    product = read_product(workspace_id, body)
    try:
        sheet = sheet_of(product)
    except ValidationError as invalid:
        raise MalformedRequest(
            f"The product cannot be a fact sheet: {invalid.errors()[0]['msg']}."
        ) from invalid
    update = CatalogUpdate(sheet, product.updated_at)
    async with database.session() as session:  # what it will write, read first to embed it
        locale = await articles.default_locale(session, workspace_id)
        planned = await product_sheets.planned_sync(
            session, workspace_id, product.product_key, locale, update
        )
    if planned is None:
        return JSONResponse({"success": True, "applied": False})
    embedding = await product_sheets.embed_sheet(planned)
    async with database.session() as session:
        written = await product_sheets.sync(
            session, workspace_id, product.product_key, locale, update,
            author=SHOPIFY_AUTHOR, embedding=embedding,
        )  # fmt: skip
        if written is None:  # a newer version was written meanwhile
            return JSONResponse({"success": True, "applied": False})
        sheet_id = written[0].id
    return JSONResponse({"success": True, "applied": True, "sheet_id": sheet_id})


@shopify_router.post("/webhooks/shopify/{write_key}/products-delete")
async def receive_shopify_product_deletion(
    write_key: str, request: Request, database: DatabaseDep
) -> JSONResponse:
    """Delete a product's fact sheets, every locale, on a Shopify `products/delete` webhook."""
    body = await request.body()
    given = request.headers.get("x-shopify-hmac-sha256", "")
    workspace_id = await shopify.verified(database, write_key, body, given)
    product_key = read_product_key(body)
    async with database.session() as session:
        deleted = await product_sheets.delete_product(session, workspace_id, product_key)
    return JSONResponse({"success": True, "deleted": deleted})
