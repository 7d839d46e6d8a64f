"""`rapport staff create|invite|reset-password`."""

from __future__ import annotations

import typer

from rapport.cli.common import console, out, run, settings
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role
from rapport.identity.invitations import IssuedInvitation, invitation_link, invitations
from rapport.identity.schemas import InvitationCreate, StaffCreate
from rapport.identity.service import staff, staff_password, workspaces
from rapport.identity.sessions import sign_ins

app = typer.Typer(help="Staff accounts.", no_args_is_help=True)


@app.command()
def create(
    workspace: str = typer.Option(..., help="Workspace slug."),
    email: str = typer.Option(..., help="Sign-in email."),
    name: str = typer.Option(..., help="Display name."),
    role: Role = typer.Option(Role.agent, help="Role in the workspace."),
) -> None:
    """Add a staff member at once (operators only); a new account's one-time password is
    printed once. To ask someone to join instead, use `rapport staff invite`."""

    async def work(database: Database) -> str | None:
        body = StaffCreate(email=email, display_name=name, role=role)
        async with database.session() as session:
            await workspaces.get_by_slug(session, workspace)  # a wrong slug fails before hashing
        new_password = await staff_password(body.email)  # hashed before the unit of work
        async with database.session() as session:
            target = await workspaces.get_by_slug(session, workspace)
            _, password = await staff.add(
                session, workspace_id=target.id, body=body, actor=SYSTEM, password=new_password
            )
            return password

    password = run(work)
    if password is None:
        console.print(f"{email} already had an account; added to {workspace} as {role}.")
        return
    console.print(
        f"Created {email} ({role}). One-time password (shown once, change it after signing in):"
    )
    out.print(password)


@app.command()
def invite(
    workspace: str = typer.Option(..., help="Workspace slug."),
    email: str = typer.Option(..., help="Email of the person to invite."),
    role: Role = typer.Option(Role.agent, help="Role they get when they accept."),
) -> None:
    """Invite someone; the single-use link to accept (valid 7 days) is the last line."""

    async def work(database: Database) -> IssuedInvitation:
        body = InvitationCreate(email=email, role=role)
        async with database.session() as session:
            target = await workspaces.get_by_slug(session, workspace)
            return await invitations.issue(
                session, workspace_id=target.id, email=body.email, role=role, actor=SYSTEM
            )

    issued = run(work)
    console.print(
        f"Invited {issued.view.email} to {workspace} as {role}; valid for 7 days. "
        "Pass on this link (shown once):"
    )
    out.print(invitation_link(settings().base_url, issued.token))


@app.command("reset-password")
def reset_password(email: str = typer.Option(..., help="Sign-in email.")) -> None:
    """Give a staff account a new random password (printed once) and end its sessions."""

    async def work(database: Database) -> str:
        return await sign_ins.reset_password(database, email=email, actor=SYSTEM)

    password = run(work)
    console.print(f"New password for {email} (shown once):")
    out.print(password)
