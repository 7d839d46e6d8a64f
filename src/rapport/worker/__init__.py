"""Job runner and scheduler."""
