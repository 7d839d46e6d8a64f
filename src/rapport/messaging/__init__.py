"""Outbound messages: email through an EmailSender port, delivered as durable jobs."""
