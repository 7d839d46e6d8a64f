"""Settings for developers: secret API keys and event sources with their write keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.deps import SessionDep
from rapport.errors import RapportError, UnprocessableContent
from rapport.events.failures import processing_failures
from rapport.events.service import events
from rapport.identity.audit import Actor
from rapport.identity.enums import Scope
from rapport.identity.keys import api_keys, sources
from rapport.identity.models import ApiKey, Source
from rapport.identity.schemas import ApiKeyCreate, SourceCreate
from rapport.identity.verification import identity_verification
from rapport.web.console.context import Console, ConsoleContext
from rapport.web.console.home import start_of_today
from rapport.web.console.routing import FormText, console_router, is_htmx, on_error, see_other
from rapport.web.console.scopes import PRESETS, SCOPE_DESCRIPTIONS, chosen_scopes
from rapport.web.console.tabs import errors_on, tab_page
from rapport.web.console.templating import page

router = console_router()


async def render_api_keys(
    ctx: ConsoleContext,
    session: AsyncSession,
    error: RapportError | None = None,
    created: tuple[ApiKey, str] | None = None,
) -> Response:
    """Draw the API keys tab; right after creating a key, show its secret once."""
    ctx.require(Scope.keys_read)
    return tab_page(
        ctx,
        "api-keys",
        error=error,
        secret=created is not None,
        keys=await api_keys.list(session, ctx.principal),
        grantable=[scope for scope in Scope if scope in ctx.principal.scopes],
        descriptions=SCOPE_DESCRIPTIONS,
        presets=[(preset, preset.within(ctx.principal.scopes)) for preset in PRESETS],
        created=created,
    )


@router.get("/settings/api-keys", response_class=HTMLResponse)
async def show_api_keys(ctx: Console, session: SessionDep) -> Response:
    """List the workspace's API keys."""
    return await render_api_keys(ctx, session)


@router.post("/settings/api-keys", response_class=HTMLResponse)
@on_error(errors_on(render_api_keys))
async def create_api_key(
    ctx: Console,
    session: SessionDep,
    name: FormText = "",
    preset: FormText = "",
    scopes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Create a key with a preset's scopes or the ticked ones, and show its secret, once."""
    ctx.require(Scope.keys_write)
    chosen = chosen_scopes(preset, scopes or [], ctx.principal.scopes)
    body = ApiKeyCreate.model_validate({"name": name.strip(), "scopes": chosen})
    created = await api_keys.create(
        session,
        workspace_id=ctx.workspace.id,
        name=body.name,
        scopes=body.scopes,
        actor=Actor.of(ctx.principal),
        granter=ctx.principal,
    )
    return await render_api_keys(ctx, session, created=created)


@router.post("/settings/api-keys/{key_id}/revoke")
@on_error(errors_on(render_api_keys))
async def revoke_api_key(ctx: Console, session: SessionDep, key_id: str) -> Response:
    """Revoke a key; it stops working at once."""
    ctx.require(Scope.keys_write)
    key = await api_keys.revoke(session, ctx.principal, key_id)
    if is_htmx(ctx.request):
        return page(ctx, "settings/_key_row.html", key=key)
    return see_other(ctx.request, "/console/settings/api-keys?notice=key-revoked")


async def render_sources(
    ctx: ConsoleContext,
    session: AsyncSession,
    error: RapportError | None = None,
    generated: tuple[Source, str] | None = None,
    identity_notice: str | None = None,
) -> Response:
    """Draw the sources tab with each source's public write key; right after a new webhook
    secret was made, show it once. Admins also see each source's identity verification."""
    ctx.require(Scope.sources_read)
    admin = ctx.can(Scope.sources_write)
    found = await sources.list(session, ctx.principal)
    ids = [source.id for source in found]
    return tab_page(
        ctx,
        "sources",
        error=error,
        secret=generated is not None or admin,
        sources=found,
        activity=await events.source_activity(
            session, ctx.workspace.id, ids, start_of_today(ctx.workspace)
        ),
        base_url=ctx.request.app.state.settings.base_url.rstrip("/"),
        generated=generated,
        verification=await identity_verification.overview(session, ctx.workspace.id)
        if admin
        else [],
        identity_notice=identity_notice,
        processing_failures=await processing_failures.per_source(session, ctx.workspace.id),
    )


@router.get("/settings/sources", response_class=HTMLResponse)
async def show_sources(ctx: Console, session: SessionDep) -> Response:
    """List the workspace's event sources."""
    return await render_sources(ctx, session)


@router.post("/settings/sources")
@on_error(errors_on(render_sources))
async def create_source(ctx: Console, session: SessionDep, name: FormText = "") -> Response:
    """Create an event source with a new write key."""
    ctx.require(Scope.sources_write)
    body = SourceCreate.model_validate({"name": name.strip()})
    await sources.create(
        session, workspace_id=ctx.workspace.id, name=body.name, actor=Actor.of(ctx.principal)
    )
    return see_other(ctx.request, "/console/settings/sources?notice=source-created")


@router.post("/settings/sources/{source_id}/webhook-secret", response_class=HTMLResponse)
@on_error(errors_on(render_sources))
async def change_webhook_secret(
    ctx: Console,
    session: SessionDep,
    source_id: str,
    action: FormText = "",
    secret: FormText = "",
) -> Response:
    """Store the secret the shop signs webhooks with, or make a new one and show it once."""
    ctx.require(Scope.sources_write)
    if action not in ("set", "rotate"):
        raise UnprocessableContent("Choose whether to store a secret or make a new one.")
    pasted = secret if action == "set" else None
    chosen = await sources.set_webhook_secret(
        session,
        workspace_id=ctx.workspace.id,
        source_id=source_id,
        actor=Actor.of(ctx.principal),
        secret=pasted,
    )
    if pasted is not None:
        return see_other(ctx.request, "/console/settings/sources?notice=webhook-secret-stored")
    source = await sources.get(session, ctx.workspace.id, source_id)
    return await render_sources(ctx, session, generated=(source, chosen))


@router.post("/settings/sources/{source_id}/identity-verification", response_class=HTMLResponse)
@on_error(errors_on(render_sources))
async def change_identity_verification(
    ctx: Console, session: SessionDep, source_id: str, action: FormText = ""
) -> Response:
    """Make a new identity secret, or require signed identities or stop requiring them."""
    ctx.require(Scope.sources_write)
    place = {"workspace_id": ctx.workspace.id, "source_id": source_id}
    actor = Actor.of(ctx.principal)
    if action == "rotate":
        await identity_verification.rotate(session, **place, actor=actor)
        notice = "New identity secret made: signatures made with the old one no longer count."
    elif action in ("require", "allow"):
        required = action == "require"
        await identity_verification.set_required(session, **place, required=required, actor=actor)
        notice = (
            "Unsigned identities from this source are now kept as unverified claims."
            if required
            else "Unsigned identities from this source count again, as before."
        )
    else:
        raise UnprocessableContent("Choose to make a new secret, require or allow.")
    return await render_sources(ctx, session, identity_notice=notice)
