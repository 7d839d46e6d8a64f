"""Console: the workspace's own intents (examples, and an answer or a task each), how well
their examples hold together, how often each is used, and a form to add, change, switch off
or delete one."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Path, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from rapport.assistant.custom_intents import custom_intents
from rapport.assistant.dialogue import TASK_OF_INTENT
from rapport.assistant.schemas import LANGUAGE_HEADING, CustomIntentWrite
from rapport.core.deps import DatabaseDep, SessionDep
from rapport.errors import UnprocessableContent
from rapport.identity.audit import Actor
from rapport.identity.enums import Scope
from rapport.nlp.examples import DEFAULT_MIN_SIMILARITY
from rapport.support.schemas import ID_PATTERN
from rapport.web.console.context import ConsoleContext, console_requiring
from rapport.web.console.routing import console_router, see_other
from rapport.web.console.templating import page

router = console_router()
ReadConsole = Annotated[ConsoleContext, console_requiring(Scope.conversations_read)]
AssignConsole = Annotated[ConsoleContext, console_requiring(Scope.conversations_assign)]
IntentId = Annotated[str, Path(pattern=ID_PATTERN)]
Short = Annotated[str, Form(max_length=100)]
# 50 examples of 300 characters, line breaks and some spaces to spare.
Lines = Annotated[str, Form(max_length=20_000)]
Answer = Annotated[str, Form(max_length=4_000)]
# 30 answers of 2,000 characters, with their headers.
Translations = Annotated[str, Form(max_length=64_000)]
PATH = "/console/assistant-intents"
HAND_OFF = "hand_off"


@router.get("/assistant-intents", response_class=HTMLResponse)
async def show_custom_intents(
    ctx: ReadConsole, session: SessionDep, database: DatabaseDep
) -> Response:
    """Show the custom intents with their examples' check, and the forms to change them."""
    workspace_id = ctx.principal.workspace_id
    listed = await custom_intents.listed(session, workspace_id)
    report = await custom_intents.report(database.engine, workspace_id)
    checks = {row.name: row for row in report.items}
    counted = await custom_intents.matches(session, workspace_id)
    matches = {row.intent_id: row for row in counted.items}
    return page(
        ctx, "assistant/intents.html", items=listed.items, checks=checks, matches=matches,
        default_min_similarity=DEFAULT_MIN_SIMILARITY, then=THEN,
        task_of_intent={name: str(task) for name, task in TASK_OF_INTENT.items()},
    )  # fmt: skip


# What the assistant does after the answer: the form's one choice, the API's two fields.
THEN = {
    "": "Ask if there is anything else",
    HAND_OFF: "Hand the conversation to people",
    "order_status": "Look up the order's status",
    "cancel_order": "Offer to cancel the order",
    "change_address": "Offer to change the delivery address",
    "request_return": "Offer to start a return",
    "resend_invoice": "Offer to send the invoice again",
}


def read_translations(text: str) -> dict[str, str]:
    """Read the answers in other languages: each starts with its language code in brackets
    on a line of its own ("[fr]"), and runs to the next one."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        header = LANGUAGE_HEADING.fullmatch(line)
        if header is not None:
            language = header.group(1).lower()
            if language in found:
                raise UnprocessableContent(
                    f"Check the answers in other languages: [{language}] is given twice."
                )
            current = found[language] = []
        elif current is not None:
            current.append(line)
        elif line.strip():
            raise UnprocessableContent(
                "Check the answers in other languages: start each with its language code in "
                "brackets, such as [fr], on a line of its own."
            )
    return {language: "\n".join(lines).strip() for language, lines in found.items()}


def intent_form(
    name: Short = "",
    examples: Lines = "",
    answer: Answer = "",
    translations: Translations = "",
    min_similarity: Short = "",
    enabled: Short = "",
    then: Short = "",
) -> CustomIntentWrite:
    """Read the form (one example a line) as the API's body, or say which field is wrong."""
    if then not in THEN:
        raise UnprocessableContent("Check what happens after the answer: pick one of the list.")
    try:
        return CustomIntentWrite.model_validate(
            {
                "name": name.strip().lower().replace(" ", "_").replace("-", "_"),
                "examples": [line for line in examples.splitlines() if line.strip()],
                "answer": answer if answer.strip() else None,
                "translations": read_translations(translations),
                "min_similarity": min_similarity.strip() or DEFAULT_MIN_SIMILARITY,
                "enabled": enabled == "on",
                "hand_off": then == HAND_OFF,
                "task": None if then in ("", HAND_OFF) else then,
            }
        )
    except ValidationError as invalid:
        first = invalid.errors()[0]
        field = str(first["loc"][0]).replace("_", " ") if first["loc"] else "answer"
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise UnprocessableContent(f"Check the {field}: {reason}.") from None


IntentForm = Annotated[CustomIntentWrite, Depends(intent_form)]


@router.post("/assistant-intents")
async def create_custom_intent(
    ctx: AssignConsole, session: SessionDep, body: IntentForm
) -> Response:
    """Add a custom intent."""
    await custom_intents.create(session, ctx.principal.workspace_id, body, Actor.of(ctx.principal))
    return see_other(ctx.request, PATH)


@router.post("/assistant-intents/{intent_id}")
async def replace_custom_intent(
    ctx: AssignConsole, session: SessionDep, intent_id: IntentId, body: IntentForm
) -> Response:
    """Change a custom intent."""
    await custom_intents.replace(
        session, ctx.principal.workspace_id, intent_id, body, Actor.of(ctx.principal)
    )
    return see_other(ctx.request, f"{PATH}#intent-{body.name}")


@router.post("/assistant-intents/{intent_id}/delete")
async def delete_custom_intent(
    ctx: AssignConsole, session: SessionDep, intent_id: IntentId
) -> Response:
    """Delete a custom intent."""
    await custom_intents.delete(
        session, ctx.principal.workspace_id, intent_id, Actor.of(ctx.principal)
    )
    return see_other(ctx.request, PATH)
