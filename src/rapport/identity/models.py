"""Identity tables: workspaces, staff, memberships, invitations, sessions, keys, audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, LargeBinary, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from rapport.core.clock import utcnow
from rapport.core.db import Base, IdMixin, TenantMixin
from rapport.identity.enums import ActorType, Role


class Workspace(IdMixin, Base):
    """One brand or shop; the boundary no data crosses."""

    __tablename__ = "workspaces"

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    mfa_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # IANA name (Europe/Berlin): every time in the console is shown in this zone.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")


class StaffUser(IdMixin, Base):
    """A person on a shop's team; may belong to several workspaces."""

    __tablename__ = "staff_users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_pending_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_counter: Mapped[int] = mapped_column(Integer, default=0)
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Membership(TenantMixin, Base):
    """A staff user's role in one workspace."""

    __tablename__ = "memberships"

    staff_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))


class Invitation(TenantMixin, Base):
    """An invitation to join a workspace, pending until the invited person accepts it.

    The email is sealed (AAD bound to this row) with a blind index for lookup; the link's
    token is stored only as its SHA-256 hash."""

    __tablename__ = "staff_invitations"

    email_index: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[bytes] = mapped_column(LargeBinary)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_type: Mapped[ActorType] = mapped_column(
        Enum(ActorType, native_enum=False, length=16)
    )
    invited_by_id: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by: Mapped[str | None] = mapped_column(String(32))
    declined_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class StaffSession(IdMixin, Base):
    """A server-side sign-in session; the cookie holds only a random token."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    workspace_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("workspaces.id", ondelete="SET NULL")
    )
    mfa_passed: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    ip_address: Mapped[str | None] = mapped_column(String(64))


class RecoveryCode(IdMixin, Base):
    """A single-use MFA recovery code, stored hashed."""

    __tablename__ = "recovery_codes"

    staff_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class SignInFailure(IdMixin, Base):
    """One failed sign-in, keyed by a keyed hash of the account or IP (no PII stored)."""

    __tablename__ = "sign_in_failures"

    key: Mapped[str] = mapped_column(String(64), index=True)


class ApiKey(TenantMixin, Base):
    """A secret key for the REST API, stored hashed, with the scopes it grants."""

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(32))
    # The staff member whose authority the key carries: its creator, or the staff member
    # behind the key that created it; null for keys the system made (CLI). The key holds at
    # most that member's current role's scopes and dies with their membership.
    staff_id: Mapped[str | None] = mapped_column(String(32), index=True)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Source(TenantMixin, Base):
    """An event source (site, app, store); its write key is public by design, like Segment's."""

    __tablename__ = "sources"

    name: Mapped[str] = mapped_column(String(200))
    write_key: Mapped[str] = mapped_column(String(64), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The secret shop webhooks (Shopify-style) are signed with, sealed with the key ring: a
    # stored random or pasted value, so rotating the ring's master keys never changes it.
    webhook_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    webhook_secret_set_at: Mapped[datetime | None]
    # The secret a shop's server signs its customers' user ids with (identity verification),
    # sealed like the webhook secret; made when first asked for, changed only by a rotation.
    identity_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    identity_secret_set_at: Mapped[datetime | None]
    # New sources refuse unsigned identities (the safe default); sources that existed before
    # identity verification keep today's behaviour (the column's server default) until an
    # admin turns it on, so an upgrade breaks no shop.
    identity_verification_required: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=false()
    )


class AuditEvent(Base):
    """An append-only record of a security-relevant act, chained by a keyed MAC."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    workspace_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor_type: Mapped[ActorType] = mapped_column(Enum(ActorType, native_enum=False, length=16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # 0: unkeyed SHA-256 (records made before 20261202_0005); 1: HMAC-SHA256 under mac_key_id.
    mac_version: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    mac_key_id: Mapped[str | None] = mapped_column(String(16))


class AuditChainHead(Base):
    """The single row that serialises appends to the audit chain."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    # Records up to this seq may be unkeyed (they predate keyed MACs); a trigger keeps it fixed.
    legacy_until_seq: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # "key id:MAC" of legacy_until_seq, written once: a boundary without it counts as 0.
    legacy_until_mac: Mapped[str | None] = mapped_column(String(96))


class AuditCheckpoint(Base):
    """An Ed25519-signed statement that the audit chain's record `seq` had hash `hash`."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))
