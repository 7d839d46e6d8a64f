"""The knowledge base: articles per locale, hybrid search, the public help center."""
