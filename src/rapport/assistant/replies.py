"""What the assistant says (English; knowledge-base answers come in the customer's language
when an article exists in it)."""

from __future__ import annotations

from rapport.assistant.enums import ActionKind
from rapport.events.order_actions import UNFULFILLED, OrderFacts

HANDING_OFF = "I'm passing you to a colleague who will reply here shortly."
CLARIFY = (
    "Sorry, I didn't quite get that. I can tell you where an order is, cancel or return it, "
    "change its delivery address, resend an invoice, or answer questions about shipping, "
    "returns, payment and sizes. Could you say it another way?"
)
NOT_MINE = (
    "That's something I can't sort out myself, so I'm passing you to a colleague who will "
    "reply here shortly."
)
ASK_ORDER = "Sure. What is the order number?"
ASK_EMAIL = "To check it's your order, what email address did you order with?"
ASK_ADDRESS = "What is the new delivery address?"
NOT_FOUND = (
    "I couldn't find that order for that email address. Could you check the order number "
    "and send it again?"
)
DECLINED = "All right, I've left the order as it is. Anything else I can help with?"
GOODBYE = "Glad I could help. Have a nice day!"
ACTION_FAILED = "I couldn't complete that."
ANYTHING_ELSE = "Anything else I can help with?"
_QUESTIONS = {
    ActionKind.cancel_order: "cancel order {order} ({total})",
    ActionKind.change_address: "change the delivery address of order {order} to: {address}",
    ActionKind.request_return: "start a return and refund request for order {order} ({total})",
    ActionKind.resend_invoice: "email the invoice of order {order} to the address you gave",
}
_DONE = {
    ActionKind.cancel_order: "Order {order} is cancelled.",
    ActionKind.change_address: "Order {order} will be delivered to the new address.",
    ActionKind.request_return: (
        "Your return request for order {order} is registered; we'll email the return label."
    ),
    ActionKind.resend_invoice: "The invoice of order {order} is on its way to your inbox.",
}


def article(title: str, snippet: str, url: str) -> str:
    """Answer with a knowledge-base article."""
    return f"{title}: {snippet}\nMore: {url}\n{ANYTHING_ELSE}"


def _total(facts: OrderFacts) -> str:
    return f"{facts.total:.2f} {facts.currency}"


def status(facts: OrderFacts) -> str:
    """Say where an order stands."""
    placed = facts.placed_at.date().isoformat()
    if facts.status == "cancelled":
        where = "was cancelled"
    elif facts.fulfillment_status == UNFULFILLED:
        where = "is being prepared and has not shipped yet"
    elif facts.fulfillment_status == "delivered":
        where = "has been delivered"
    else:
        shipped = facts.shipped_at.date().isoformat() if facts.shipped_at else "recently"
        where = f"shipped on {shipped} and is on its way"
    extra = " A return is requested for it." if facts.return_requested else ""
    summary = f"Order {facts.order_key} (placed {placed}, {_total(facts)}) {where}."
    return f"{summary}{extra}\n{ANYTHING_ELSE}"


def ineligible(task: str | None, facts: OrderFacts) -> str | None:
    """Say why an action cannot be done to this order, or None when it can."""
    order = facts.order_key
    if facts.status == "cancelled":
        return f"Order {order} is already cancelled. {ANYTHING_ELSE}"
    shipped = facts.fulfillment_status != UNFULFILLED
    if task == ActionKind.cancel_order and shipped:
        return f"Order {order} has already shipped, so it can't be cancelled; I can start a return."
    if task == ActionKind.change_address and shipped:
        return f"Order {order} has already been dispatched, so its address can't change now."
    if task == ActionKind.request_return and not shipped:
        return f"Order {order} hasn't shipped yet; I can cancel it instead."
    if task == ActionKind.request_return and facts.return_requested:
        return f"A return is already requested for order {order}. {ANYTHING_ELSE}"
    return None


def confirm(task: str, facts: OrderFacts, address: str | None) -> str:
    """Ask the customer to confirm an action."""
    question = _QUESTIONS[ActionKind(task)].format(
        order=facts.order_key, total=_total(facts), address=address or ""
    )
    return f'Shall I {question}? Reply "yes" to confirm or "no" to leave it.'


def done(kind: str, facts: OrderFacts) -> str:
    """Say that a confirmed action ran."""
    return f"{_DONE[ActionKind(kind)].format(order=facts.order_key)} {ANYTHING_ELSE}"
