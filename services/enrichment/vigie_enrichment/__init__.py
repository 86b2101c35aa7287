"""The enrichment service: what a CERT analyst wants attached to a declaration before reading it."""
