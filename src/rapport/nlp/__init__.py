"""Language algorithms (intent, sentiment, language, PII redaction, embeddings): plain data in
and out, behind small Protocols; imports no web, database or domain code."""
