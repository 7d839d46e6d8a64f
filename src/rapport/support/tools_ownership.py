"""Who owns an agent tool and who may change it: shared tools belong to the workspace and
are changed by those who may share (supervisors and up); personal ones by their owner."""

from __future__ import annotations

from typing import Protocol

from rapport.support.schemas import Acting
from rapport.support.tools_errors import NotYours


class Owned(Protocol):
    owner_id: str | None


def owner_for(shared: bool, acting: Acting, may_share: bool) -> str | None:
    """Return the owner a new or changed tool gets (None: shared), or refuse."""
    if shared:
        if not may_share:
            raise NotYours("Only supervisors and up share tools with the workspace.")
        return None
    if acting.staff_id is None:
        raise NotYours("Only staff members have personal tools; share it instead.")
    return acting.staff_id


def check_may_change(tool: Owned, acting: Acting, may_share: bool) -> None:
    """Refuse a change to a shared tool without the right to share, or to someone else's."""
    if tool.owner_id is None and not may_share:
        raise NotYours("Only supervisors and up change shared tools.")
    if tool.owner_id is not None and tool.owner_id != acting.staff_id:
        raise NotYours("A personal tool is changed by its owner only.")
