"""Confirmed order actions: run through the events domain, audited, never without a "yes"."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.assistant.enums import ActionKind
from rapport.events.order_actions import OrderActionRefused, OrderFacts, order_actions
from rapport.identity.audit import Actor, audit
from rapport.identity.enums import ActorType
from rapport.messaging.service import outbound

ASSISTANT_ACTOR = Actor(ActorType.system, "assistant")


async def run_action(
    session: AsyncSession, workspace_id: str, conversation_id: str, pending: dict[str, Any]
) -> OrderFacts:
    """Run an action the customer confirmed and audit it (order key and conversation only)."""
    kind, order_key = ActionKind(pending["kind"]), str(pending["order"])
    if kind == ActionKind.cancel_order:
        facts = await order_actions.cancel(session, workspace_id, order_key)
    elif kind == ActionKind.change_address:
        facts = await order_actions.change_address(
            session, workspace_id, order_key, str(pending.get("address") or "")
        )
    elif kind == ActionKind.request_return:
        facts = await order_actions.request_return(session, workspace_id, order_key)
    else:
        facts = await _resend_invoice(session, workspace_id, order_key, pending.get("email"))
    await audit.record(
        session, f"assistant.{kind}", ASSISTANT_ACTOR, workspace_id=workspace_id,
        target_type="order", target_id=order_key,
        details={"conversation_id": conversation_id, "confirmed": True},
    )  # fmt: skip
    return facts


async def _resend_invoice(
    session: AsyncSession, workspace_id: str, order_key: str, email: Any
) -> OrderFacts:
    if not isinstance(email, str):
        raise OrderActionRefused("No verified email to send the invoice to.")
    facts = await order_actions.visible_to(
        session, workspace_id, order_key, customer_id=None, email=email
    )
    if facts is None:
        raise OrderActionRefused("The email is not the order's.")
    message = await order_actions.invoice(session, workspace_id, order_key, email)
    await outbound.queue(session, workspace_id, message, purpose="invoice")
    return facts
