"""Console: agent assist on a conversation's page, the "Suggested replies" panel (HTMX,
refreshed with the page's other live parts when the conversation changes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response
from fastapi.responses import HTMLResponse

from rapport.assistant.suggestion_schemas import SuggestionKind
from rapport.assistant.suggestions import suggester
from rapport.core.deps import DatabaseDep, SettingsDep
from rapport.support.schemas import ID_PATTERN
from rapport.web.console.routing import console_router
from rapport.web.console.support_views import WriteConsole, acting_of
from rapport.web.console.templating import page

router = console_router()
ConversationId = Annotated[str, Path(pattern=ID_PATTERN)]
KIND_LABELS = {
    SuggestionKind.past_reply: "Earlier answer",
    SuggestionKind.canned_response: "Canned response",
    SuggestionKind.article: "Article",
    SuggestionKind.product_fact: "Product fact",
}


@router.get("/inbox/conversations/{conversation_id}/suggested-replies", response_class=HTMLResponse)
async def suggested_replies(
    ctx: WriteConsole,
    database: DatabaseDep,
    settings: SettingsDep,
    conversation_id: ConversationId,
) -> Response:
    """Suggest replies to the customer's last message (no transaction held while the model
    runs: the service opens its own short units of work)."""
    found = await suggester.suggest(
        database, ctx.principal.workspace_id, conversation_id, acting_of(ctx),
        link_base=settings.base_url,
    )  # fmt: skip
    return page(ctx, "assistant/_suggested_replies.html", replies=found, kinds=KIND_LABELS)
