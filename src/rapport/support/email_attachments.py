"""Inbound email attachments on local disk: kept by content hash under the data directory,
owner-only, within size and type limits; the message records what was kept and why not."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from rapport.config import private_directory
from rapport.support.email_parsing import Attachment

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 20
KEPT_TYPES = frozenset(
    {
        "application/pdf",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/csv",
        "text/plain",
    }
)


def attachment_path(root: Path, workspace_id: str, sha256: str) -> Path:
    """Return where an attachment with this content hash is kept."""
    return root / "attachments" / workspace_id / sha256[:2] / sha256


def store_attachments(
    root: Path, workspace_id: str, attachments: list[Attachment]
) -> list[dict[str, Any]]:
    """Write the attachments that pass the limits; return every one's metadata."""
    return [
        _store(root, workspace_id, attachment, number)
        for number, attachment in enumerate(attachments)
    ]


def _store(root: Path, workspace_id: str, attachment: Attachment, number: int) -> dict[str, Any]:
    sha256 = hashlib.sha256(attachment.content).hexdigest()
    metadata: dict[str, Any] = {
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": len(attachment.content),
        "sha256": sha256,
        "kept": False,
    }
    if number >= MAX_ATTACHMENTS:
        return {**metadata, "reason": f"more than {MAX_ATTACHMENTS} attachments"}
    if attachment.content_type not in KEPT_TYPES:
        return {**metadata, "reason": "type not accepted"}
    if len(attachment.content) > MAX_ATTACHMENT_BYTES:
        return {**metadata, "reason": f"larger than {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB"}
    _write(attachment_path(root, workspace_id, sha256), attachment.content)
    return {**metadata, "kept": True}


def _write(path: Path, content: bytes) -> None:
    if path.exists():
        return  # the same content is kept once
    for directory in reversed(path.parents[:4]):
        private_directory(directory)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
        file.write(content)
    temporary.replace(path)
