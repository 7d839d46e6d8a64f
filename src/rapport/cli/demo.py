"""`rapport demo`: a demo workspace with an owner account (safe to run again)."""

from __future__ import annotations

from datetime import timedelta

from rapport.assistant.demo import DEMO_CUSTOMER_EMAIL
from rapport.assistant.demo import seed_demo as seed_assistant
from rapport.cli.common import console, run, settings
from rapport.cli.demo_history import seed_demo_history
from rapport.cli.nlp import label_with_progress
from rapport.core.db import Database
from rapport.errors import NotFound
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role
from rapport.identity.keys import sources
from rapport.identity.schemas import StaffCreate
from rapport.identity.service import staff, staff_password, workspaces
from rapport.identity.verification import identity_verification
from rapport.knowledge.demo import seed_demo

DEMO_SLUG = "demo"
DEMO_OWNER = "owner@demo.example.com"


def demo() -> None:
    """Create the demo workspace and owner once; print how to sign in."""

    async def exists(database: Database) -> bool:
        async with database.session() as session:
            try:
                await workspaces.get_by_slug(session, DEMO_SLUG)
                return True
            except NotFound:
                return False

    async def work(database: Database) -> str | None:
        if await exists(database):
            return None
        body = StaffCreate(email=DEMO_OWNER, display_name="Demo Owner", role=Role.owner)
        new_password = await staff_password(body.email)  # hashed before the unit of work
        async with database.session() as session:
            try:  # created meanwhile by another run
                await workspaces.get_by_slug(session, DEMO_SLUG)
                return None
            except NotFound:
                pass
            workspace = await workspaces.create(
                session, slug=DEMO_SLUG, name="Demo Shop", actor=SYSTEM
            )
            _, password = await staff.add(
                session, workspace_id=workspace.id, body=body, actor=SYSTEM, password=new_password
            )
            source = await sources.create(
                session, workspace_id=workspace.id, name="Demo website", actor=SYSTEM
            )
            # /demo/shop?signed_in=true signs its demo customer's id with this secret.
            await identity_verification.secret(
                session, workspace_id=workspace.id, source_id=source.id, actor=SYSTEM
            )
            return password

    async def knowledge(database: Database) -> None:
        # A unit of work of its own: the sample articles are embedded before it writes.
        async with database.session() as session:
            workspace = await workspaces.get_by_slug(session, DEMO_SLUG)
            await seed_demo(session, workspace.id)

    async def assistant(database: Database) -> None:
        # The assistant on for the widget, with a custom intent (gift wrapping); a demo
        # customer with orders 1001 and 1002.
        async with database.session() as session:
            workspace = await workspaces.get_by_slug(session, DEMO_SLUG)
            await seed_assistant(session, workspace.id)

    password = run(work)
    run(knowledge)
    run(assistant)
    # Months of orders, conversations and survey answers: the dashboard is full at once.
    run(lambda database: seed_demo_history(database, DEMO_SLUG))
    # The history's customer messages labelled as live ones are (no job ever saw them).
    labelled = run(lambda database: label_with_progress(database, DEMO_SLUG, timedelta(0)))
    if labelled:
        console.print(f"Labels    {labelled} customer messages: language, intent, sentiment")
    url = settings().base_url
    if password is None:
        console.print(
            f"Demo workspace already set up. Sign in at {url}/console as {DEMO_OWNER}; "
            "forgot the password? `.venv/bin/rapport staff reset-password "
            f"--email {DEMO_OWNER}`"
        )
        return
    console.rule("[bold]Rapport demo workspace[/bold]")
    console.print(f"Open      {url}/console")
    console.print(f"Email     {DEMO_OWNER}")
    console.print(f"Password  [bold]{password}[/bold]   (shown once — keep it)")
    console.print(f"Shop page {url}/demo/shop   (the chat widget; answer it in the console)")
    console.print(
        f"Assistant ask it 'where is order 1001?' ({DEMO_CUSTOMER_EMAIL}), 'cancel order "
        "1002', 'can you gift wrap it?', 'is the linen shirt machine washable?', or for a "
        "human; in English, French, German or Spanish"
    )
    console.rule()
