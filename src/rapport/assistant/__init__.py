"""The assistant: labels on customer messages, a dialogue that answers and acts, hand-off."""
