"""CX metrics (NPS, CSAT, CES, retention, churn, repeat purchase, support times) and
per-customer predictions, computed from the other domains' facts."""
