"""Delivering webhooks: one attempt per job, the request outside any unit of work.

A delivery job locks its delivery, counts the attempt and queues the next one (the retry
exists before the try); the request runs after that unit commits, to an address resolved
and checked just before (targets.py), and its outcome (status code, a short error, 1 KB of
the answer at most) is written by a short unit of its own."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rapport.config import get_settings
from rapport.core.clock import utcnow
from rapport.core.db import after_commit, unit_of_work
from rapport.core.jobs import enqueue
from rapport.webhooks.enums import DeliveryStatus
from rapport.webhooks.errors import WebhookTargetRefused
from rapport.webhooks.models import WebhookAttempt, WebhookDelivery
from rapport.webhooks.repository import AttemptRepository, DeliveryRepository, EndpointRepository
from rapport.webhooks.signing import open_secret, sign
from rapport.webhooks.targets import resolve

logger = logging.getLogger("rapport.webhooks")

DELIVER_JOB = "webhooks.deliver"
# Waits before retries 1..7 (as Standard Webhooks' reference schedule): 8 attempts in ~28 h.
RETRY_DELAYS = (
    timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
    timedelta(hours=5), timedelta(hours=10), timedelta(hours=10),
)  # fmt: skip
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# One attempt (resolving, connecting, sending, reading) ends within this; the next attempt,
# queued before it starts, waits it out first so two never overlap.
ATTEMPT_DEADLINE_SECONDS = 15.0
RESPONSE_KEPT = 1024
USER_AGENT = "Rapport-Webhooks/1"


class WebhookSender:
    """How this process sends webhooks: private targets allowed or not, the deadline."""

    def __init__(self) -> None:
        self._allow_private: bool | None = None
        self.deadline = ATTEMPT_DEADLINE_SECONDS

    def configure(self, *, allow_private: bool | None, deadline: float | None = None) -> None:
        """Set whether private targets are allowed (None: RAPPORT_WEBHOOKS_ALLOW_PRIVATE)."""
        self._allow_private = allow_private
        self.deadline = deadline or ATTEMPT_DEADLINE_SECONDS

    @property
    def allow_private(self) -> bool:
        """Tell whether loopback and private addresses may be targets."""
        if self._allow_private is None:
            return get_settings().webhooks_allow_private
        return self._allow_private


webhook_sender = WebhookSender()


@dataclass(frozen=True)
class Outgoing:
    """One attempt's request, prepared inside the job's unit of work."""

    delivery_id: str
    number: int
    url: str
    secret: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    status_code: int | None
    error: str | None
    response: str
    permanent: bool = False

    @property
    def delivered(self) -> bool:
        """Tell whether the receiver took it (any 2xx)."""
        return self.status_code is not None and 200 <= self.status_code < 300


def body_of(delivery: WebhookDelivery) -> bytes:
    """Return the exact bytes sent (and signed) for a delivery."""
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


async def deliver(session: AsyncSession, workspace_id: str, delivery_id: str) -> None:
    """Make one delivery attempt: count it, queue the next, send after commit."""
    delivery = await DeliveryRepository(session, workspace_id).for_delivery(delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.pending:
        return  # delivered, given up, or gone with its endpoint
    endpoint = await EndpointRepository(session, workspace_id).get(delivery.endpoint_id)
    if endpoint is None or not endpoint.enabled or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.failed
        if endpoint is not None and not endpoint.enabled:
            delivery.last_error = "the endpoint was disabled"
        return
    delivery.attempts += 1
    if delivery.attempts < MAX_ATTEMPTS:
        wait = timedelta(seconds=webhook_sender.deadline * 2)
        enqueue(
            session, DELIVER_JOB, workspace_id=workspace_id, delivery_id=delivery.id,
            delay=wait + RETRY_DELAYS[delivery.attempts - 1],
        )  # fmt: skip
    outgoing = Outgoing(
        delivery.id, delivery.attempts, endpoint.url,
        open_secret(endpoint.id, endpoint.secret), body_of(delivery),
    )  # fmt: skip
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        raise TypeError("delivery needs a session bound to an engine")
    allow_private, deadline = webhook_sender.allow_private, webhook_sender.deadline

    async def attempt() -> None:
        outcome = await send(outgoing, allow_private, deadline)
        await _record(engine, workspace_id, outgoing, outcome)

    after_commit(session, attempt)


async def send(outgoing: Outgoing, allow_private: bool, deadline: float) -> Outcome:
    """POST one signed message to its endpoint; never raise."""
    try:
        async with asyncio.timeout(deadline):
            return await _post(outgoing, allow_private, deadline)
    except WebhookTargetRefused as refused:
        return Outcome(None, f"target refused: {refused.message}"[:200], "", permanent=True)
    except TimeoutError:
        return Outcome(None, "timed out", "")
    except httpx.HTTPError as error:
        return Outcome(None, f"connection failed: {type(error).__name__}", "")
    except Exception as error:
        # Whatever else breaks (a TLS library, a codec) is one failed attempt, retried.
        return Outcome(None, f"request failed: {type(error).__name__}", "")


async def _post(outgoing: Outgoing, allow_private: bool, deadline: float) -> Outcome:
    target = await resolve(outgoing.url, allow_private)
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": target.host_header,
        "webhook-id": outgoing.delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(outgoing.secret, outgoing.delivery_id, timestamp, outgoing.body),
    }
    extensions: dict[str, Any] = {"sni_hostname": target.host} if target.scheme == "https" else {}
    # Connect to the address just checked (no second lookup a rebinding DNS could answer
    # differently), with no proxy from the environment and no redirect followed.
    async with (
        httpx.AsyncClient(timeout=deadline, follow_redirects=False, trust_env=False) as client,
        client.stream(
            "POST", target.connect_url, content=outgoing.body, headers=headers,
            extensions=extensions,
        ) as answer,
    ):  # fmt: skip
        kept = bytearray()
        async for chunk in answer.aiter_bytes():
            kept.extend(chunk)
            if len(kept) >= RESPONSE_KEPT:
                break
    text = bytes(kept[:RESPONSE_KEPT]).decode("utf-8", "replace").replace("\x00", "")
    error = None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
    return Outcome(answer.status_code, error, text)


async def _record(
    engine: AsyncEngine, workspace_id: str, outgoing: Outgoing, outcome: Outcome
) -> None:
    """Write an attempt and its delivery's state in a short unit; never raise (this runs
    after the job's commit, where an error would rerun its neighbours)."""
    values: dict[str, object] = {
        "last_status_code": outcome.status_code, "last_error": outcome.error,
    }  # fmt: skip
    if outcome.delivered:
        values.update(status=DeliveryStatus.delivered, delivered_at=utcnow())
    elif outcome.permanent or outgoing.number >= MAX_ATTEMPTS:
        values["status"] = DeliveryStatus.failed
    try:
        async with unit_of_work(engine) as session:
            await AttemptRepository(session, workspace_id).add(
                WebhookAttempt(
                    delivery_id=outgoing.delivery_id, number=outgoing.number,
                    status_code=outcome.status_code, error=outcome.error,
                    response=outcome.response,
                )
            )  # fmt: skip
            await DeliveryRepository(session, workspace_id).record(outgoing.delivery_id, **values)
    except Exception as error:
        # The queued retry finds the delivery still pending and tries again.
        logger.warning("webhook outcome not recorded", extra={"error": type(error).__name__})
