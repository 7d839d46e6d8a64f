"""Import every model so Alembic sees the whole schema."""

from rapport.core.db import Base
from rapport.core.jobs import Job, JobSchedule
from rapport.core.outbox import DomainEvent
from rapport.customers.models import ConsentRecord, Customer, Identifier, Merge, SearchTerm  # noqa: F401
from rapport.domains import load_models
from rapport.events.models import Event, Order, OrderItem, Product  # noqa: F401
from rapport.identity.models import (
    ApiKey,
    AuditChainHead,
    AuditEvent,
    Membership,
    RecoveryCode,
    SignInFailure,
    Source,
    StaffSession,
    StaffUser,
    Workspace,
)

# Every registered domain's models, so a new domain's tables reach Alembic without an edit here.
load_models()
metadata = Base.metadata

__all__ = [
    "ApiKey",
    "AuditChainHead",
    "AuditEvent",
    "DomainEvent",
    "Job",
    "JobSchedule",
    "Membership",
    "RecoveryCode",
    "SignInFailure",
    "Source",
    "StaffSession",
    "StaffUser",
    "Workspace",
    "metadata",
]
