"""Assistant enumerations: order actions and why a conversation was handed off."""

from __future__ import annotations

import enum


class ActionKind(enum.StrEnum):
    """An operation on the customer's order; each waits for the customer's confirmation."""

    cancel_order = "cancel_order"
    change_address = "change_address"
    request_return = "request_return"
    resend_invoice = "resend_invoice"


class HandoffReason(enum.StrEnum):
    """Why the assistant gave a conversation to people."""

    asked_for_human = "asked_for_human"
    negative_sentiment = "negative_sentiment"
    vip_customer = "vip_customer"
    low_confidence = "low_confidence"
    out_of_scope = "out_of_scope"
    action_failed = "action_failed"
    not_verified = "not_verified"
    complaint = "complaint"
    custom_intent = "custom_intent"  # the workspace's own intent says so after its answer
    no_answer = "no_answer"  # understood, but no task or article covers it
