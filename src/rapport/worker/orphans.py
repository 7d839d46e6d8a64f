"""Worker ids that name their process, so a worker can give back the jobs of local dead ones."""

from __future__ import annotations

import hashlib
import os
import socket
from contextlib import suppress

from sqlalchemy import select, update

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.core.ids import new_id
from rapport.core.jobs import Job, JobStatus

_HOSTNAME_LENGTH = 32  # keeps a worker id inside Job.locked_by's 64 characters
ORPHAN_ERROR = "WorkerDied: the process holding the job ended"
# The worker ids this process has handed to its own workers: a lease carrying our PID but none
# of these ids was taken by an earlier process that had our PID (a restarted container's PID 1).
_OWN_WORKER_IDS: set[str] = set()


def host_tag() -> str:
    """Name the process namespace this worker runs in: its host, and its PID namespace, so
    containers that share a hostname never judge each other's processes."""
    hostname = socket.gethostname()
    namespace = ""
    with suppress(OSError):
        namespace = os.readlink("/proc/self/ns/pid")
    digest = hashlib.sha256(f"{hostname}|{namespace}".encode()).hexdigest()[:8]
    return f"{hostname[:_HOSTNAME_LENGTH]}~{digest}"


def new_worker_id(pid: int | None = None) -> str:
    """Return a fresh worker id: host tag, process id, and a random suffix; without `pid`, an
    id for a worker of this process, remembered as one of its own."""
    worker_id = f"{host_tag()}:{os.getpid() if pid is None else pid}:{new_id()[-8:]}"
    if pid is None:
        _OWN_WORKER_IDS.add(worker_id)
    return worker_id


def is_dead_local_worker(worker_id: str, tag: str) -> bool:
    """Tell whether `worker_id` names a process of this host that no longer exists: another
    PID that is gone, or our own PID in an id that none of our workers carries."""
    owner_tag, _, rest = worker_id.partition(":")
    pid_text = rest.partition(":")[0]
    if owner_tag != tag or not pid_text.isdigit():
        return False
    if int(pid_text) == os.getpid():
        return worker_id not in _OWN_WORKER_IDS
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive but another user's (EPERM), or unknowable: keep the lease
    return False


async def reclaim_orphans(database: Database) -> int:
    """Queue again, at once, the running jobs of this host's workers that have died; return
    how many (other hosts' jobs wait for their lease, as a process there cannot be checked)."""
    tag = host_tag()
    async with database.session() as session:
        owners = await session.execute(
            select(Job.locked_by)
            .where(
                Job.status == JobStatus.running,
                Job.locked_by.startswith(f"{tag}:", autoescape=True),
            )
            .distinct()
        )
        dead = [owner for owner in owners.scalars() if owner and is_dead_local_worker(owner, tag)]
        if not dead:
            return 0
        now = utcnow()
        reclaimed = await session.execute(
            update(Job)
            .where(Job.status == JobStatus.running, Job.locked_by.in_(dead))
            .values(
                status=JobStatus.queued,
                run_at=now,
                locked_by=None,
                locked_until=None,
                last_error=ORPHAN_ERROR,
            )
        )
        return int(reclaimed.rowcount)  # type: ignore[attr-defined]
