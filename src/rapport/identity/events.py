"""Names of the domain events identity publishes (core/outbox.py), and the sealed part of an
invitation's event: the invited email and the link are a bearer credential, so the event
row and its jobs carry them only sealed to the invitation."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.crypto import keyring
from rapport.core.outbox import publish

STAFF_INVITED = "staff.invited"


@dataclass(frozen=True)
class InvitedPerson:
    """Who an invitation goes to and the path of its link (under RAPPORT_BASE_URL)."""

    email: str
    link_path: str


def _aad(invitation_id: str) -> str:
    return f"domain_events.staff_invited:{invitation_id}"


def announce_invitation(
    session: AsyncSession, workspace_id: str, invitation_id: str, invited: InvitedPerson
) -> None:
    """Publish STAFF_INVITED with the email and link sealed to the invitation."""
    plain = json.dumps({"email": invited.email, "link_path": invited.link_path})
    sealed = keyring().encrypt(plain, _aad(invitation_id)).hex()
    publish(
        session, STAFF_INVITED, workspace_id=workspace_id, invitation_id=invitation_id,
        sealed=sealed,
    )  # fmt: skip


def open_invitation(invitation_id: str, sealed: str) -> InvitedPerson:
    """Open the sealed part of a STAFF_INVITED event."""
    opened = json.loads(keyring().decrypt(bytes.fromhex(sealed), _aad(invitation_id)))
    return InvitedPerson(email=opened["email"], link_path=opened["link_path"])
