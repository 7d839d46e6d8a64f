"""Identity schemas: the Principal every domain authorises with, and API shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from zoneinfo import available_timezones

from pydantic import BaseModel, EmailStr, Field, field_validator

from rapport.core.schemas import ReadModel
from rapport.identity.enums import ActorType, InvitationStatus, Role, Scope


@dataclass(frozen=True)
class Principal:
    """Who is calling, in which workspace, allowed to do what."""

    workspace_id: str
    actor_type: ActorType
    actor_id: str
    scopes: frozenset[Scope]
    role: Role | None = None
    ip_address: str | None = field(default=None, compare=False)

    def can(self, scope: Scope) -> bool:
        """Tell whether this principal holds `scope`."""
        return scope in self.scopes


class WorkspaceRead(ReadModel):
    id: str = Field(description="Workspace id.")
    slug: str = Field(description="URL-safe short name, unique on this install.")
    name: str = Field(description="Display name of the brand or shop.")
    mfa_required: bool = Field(description="Whether every staff member must use MFA.")
    time_zone: str = Field(description="IANA time zone the console shows times in.")
    created_at: datetime = Field(description="When the workspace was created.")


@cache
def time_zones() -> frozenset[str]:
    """Return the IANA time zone names this machine knows."""
    return frozenset(available_timezones())


class WorkspaceUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200, description="New name.")
    mfa_required: bool | None = Field(default=None, description="Enforce staff MFA.")
    time_zone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA time zone (Europe/Berlin) the console shows times in.",
    )

    @field_validator("time_zone")
    @classmethod
    def known_time_zone(cls, value: str | None) -> str | None:
        """Accept only a time zone of the IANA database."""
        if value is not None and value not in time_zones():
            raise ValueError("not a known time zone (use an IANA name such as Europe/Berlin)")
        return value


class StaffRead(ReadModel):
    id: str = Field(description="Staff user id.")
    email: str = Field(description="Sign-in email.")
    display_name: str = Field(description="Name shown to colleagues and customers.")
    role: Role = Field(description="Role in the current workspace.")
    mfa_enabled: bool = Field(description="Whether the staff member has TOTP MFA on.")


class StaffCreate(BaseModel):
    email: EmailStr = Field(description="Sign-in email of the new staff member.")
    display_name: str = Field(min_length=1, max_length=200, description="Display name.")
    role: Role = Field(default=Role.agent, description="Role in the current workspace.")


class InvitationCreate(BaseModel):
    email: EmailStr = Field(description="Email of the person to invite.")
    role: Role = Field(default=Role.agent, description="Role they get when they accept.")


class InvitationRead(BaseModel):
    id: str = Field(description="Invitation id.")
    email: str = Field(description="The email the invitation was sent to.")
    role: Role = Field(description="Role the person gets when they accept.")
    status: InvitationStatus = Field(description="pending, expired, accepted, declined, revoked.")
    invited_by_type: ActorType = Field(description="Kind of actor who invited: staff, api_key.")
    invited_by_id: str | None = Field(description="Staff user or API key id of the inviter.")
    created_at: datetime = Field(description="When the invitation was made.")
    expires_at: datetime = Field(description="When the link stops working.")


class InvitationCreated(InvitationRead):
    link: str = Field(
        description="The single-use link the person accepts with. Shown once: pass it on now "
        "(Rapport keeps only its hash)."
    )


class RoleUpdate(BaseModel):
    role: Role = Field(description="The new role in the current workspace.")


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="What the key is for.")
    scopes: list[Scope] = Field(min_length=1, description="Scopes the key grants.")


class ApiKeyRead(ReadModel):
    id: str = Field(description="Key id.")
    name: str = Field(description="What the key is for.")
    prefix: str = Field(description="First characters of the key, to recognise it.")
    scopes: list[Scope] = Field(description="Scopes the key grants.")
    created_at: datetime = Field(description="When the key was created.")
    last_used_at: datetime | None = Field(description="Last time the key authenticated.")
    revoked_at: datetime | None = Field(description="When the key was revoked, if it was.")


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret key. Shown once: store it now.")


class SourceCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="Where events come from.")


class SourceRead(ReadModel):
    id: str = Field(description="Source id.")
    name: str = Field(description="Where events come from (site, app, store).")
    write_key: str = Field(description="Public write key for the Segment-compatible API.")
    enabled: bool = Field(description="Whether the source accepts events.")
    created_at: datetime = Field(description="When the source was created.")


class AuditEventRead(ReadModel):
    seq: int = Field(description="Position in the hash chain.")
    created_at: datetime = Field(description="When it happened.")
    actor_type: ActorType = Field(description="Kind of actor.")
    actor_id: str | None = Field(description="Who acted.")
    action: str = Field(description="What was done, e.g. `staff.signed_in`.")
    target_type: str | None = Field(description="Kind of thing acted on.")
    target_id: str | None = Field(description="Id of the thing acted on.")
    ip_address: str | None = Field(description="Client IP address.")
    details: dict[str, object] = Field(description="Non-personal details of the act.")
    hash: str = Field(description="Hash of this record chained to the previous one.")


class PrincipalRead(BaseModel):
    workspace_id: str = Field(description="The workspace the caller acts in.")
    actor_type: ActorType = Field(description="staff or api_key.")
    actor_id: str = Field(description="Staff user id or API key id.")
    role: Role | None = Field(description="Role, for staff.")
    scopes: list[Scope] = Field(description="Scopes the caller holds.")
