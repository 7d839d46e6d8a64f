"""Signed outbound webhooks (Standard Webhooks) for conversation and message events."""
