"""Support desk: conversations on every channel, messages, teams, priority and metrics."""
